#!/bin/bash
# Installs what is missing, builds everything and runs every test (unit and
# integration) with ctest. Exits non-zero when anything fails.
#
# Tests run one at a time by default: integration tests start daemons, shims
# and containers that share host resources (the shims' sockets under
# /run/containerd/s, overlay mounts, cgroups), and the machines this runs on
# are small. MCD_TEST_JOBS=N runs N at once; MCD_TEST_ARGS adds ctest
# arguments (e.g. MCD_TEST_ARGS="-L unit" or "-R filters").
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
mcd_install_deps
scripts/build.sh
# libFuzzer targets in a separate clang build, bounded (MCD_FUZZ_SECONDS each).
# First, so that ctest's summary is the last thing printed.
tests/fuzz/run.sh "${MCD_FUZZ_SECONDS:-60}"
# shellcheck disable=SC2086
ctest --test-dir build --output-on-failure --timeout 900 -j "${MCD_TEST_JOBS:-1}" ${MCD_TEST_ARGS:-}
