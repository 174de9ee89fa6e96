#!/bin/bash
# Configures (once) and builds into build/ with Ninja. Arguments are build
# targets (none: everything). MCD_JOBS sets the parallelism (default 2).
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ ! -f build/build.ninja ]]; then
  cmake -S . -B build -G Ninja
fi
targets=()
for t in "$@"; do
  targets+=(--target "$t")
done
cmake --build build -j "${MCD_JOBS:-2}" "${targets[@]}"
