#!/bin/sh
# minicontainerd against containerd 1.6.20 in one run, each on a temp root:
#   - start-up: exec to the first served gRPC call (median of 10)
#   - container API: 200 create / 200 filtered list / 200 delete (synced writes)
#   - image import: an OCI tar with a 200 MB incompressible uncompressed layer,
#     `ctr images import --no-unpack` (make-test-image --random-layer)
# Usage: bench/images_bench.sh <build dir>
set -eu
BUILD=${1:-build}
BUILD=$(cd "$BUILD" && pwd)
MCD=$BUILD/daemon/minicontainerd
T=$(mktemp -d /tmp/mcd-bench-XXXXXX)
chmod 0711 "$T"
pids=""
cleanup() {
  for p in $pids; do kill "$p" 2>/dev/null || true; done
  for p in $pids; do wait "$p" 2>/dev/null || true; done
  rm -rf "$T"
}
trap cleanup EXIT INT TERM
printf 'version = 2\ndisabled_plugins = ["io.containerd.grpc.v1.cri"]\n' > "$T/containerd.toml"

echo "== start-up (exec to first served call)"
printf 'minicontainerd: '
"$BUILD/bench/bench_startup" "$T/su/m{n}/c.sock" 10 -- "$MCD" --root "$T/su/m{n}/root" \
  --state "$T/su/m{n}/state" --address "$T/su/m{n}/c.sock"
printf 'containerd:     '
"$BUILD/bench/bench_startup" "$T/su/r{n}/c.sock" 10 -- /usr/bin/containerd --root "$T/su/r{n}/root" \
  --state "$T/su/r{n}/state" -a "$T/su/r{n}/c.sock" --config "$T/containerd.toml"
rm -rf "$T/su"

. "$(dirname "$0")/lib.sh"
bench_start_both

echo "== container API (200 create, 200 list with filters, 200 delete)"
for d in m r; do
  [ $d = m ] && echo "minicontainerd:" || echo "containerd:"
  "$BUILD/bench/bench_containers_api" "$T/$d/c.sock" bench 200 | sed 's/^/  /'
done

MKIMG=$BUILD/tests/integration/make-test-image
if [ -x "$MKIMG" ]; then
  echo "== import of an image with a 200 MB incompressible uncompressed layer (--no-unpack)"
  "$MKIMG" "$T/big.tar" --random-layer 209715200 >/dev/null
  for d in m r; do
    [ $d = m ] && printf 'minicontainerd: ' || printf 'containerd:     '
    sync
    s=$(date +%s.%N)
    ctr -a "$T/$d/c.sock" -n bench images import --no-unpack "$T/big.tar" >/dev/null
    e=$(date +%s.%N)
    echo "$s $e" | awk '{d=$2-$1; printf "%.3f s, %.0f MB/s\n", d, 200/d}'
  done
else
  echo "(import skipped: build make-test-image)"
fi
