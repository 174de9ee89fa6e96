#!/bin/bash
# Installs what is missing, builds the daemon and runs it on a throwaway
# root, state and socket under /tmp (printed at start-up). Ctrl-C stops it
# and removes everything it created. Extra arguments go to the daemon.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
mcd_install_deps
scripts/build.sh minicontainerd
exec build/daemon/minicontainerd --ephemeral "$@"
