#!/bin/sh
# Snapshots: minicontainerd against containerd 1.6.20 in one run, each on a
# temp root, runs interleaved (m, r, m, r, ...) so load drifts hit both:
#   - unpack: `ctr snapshots unpack <manifest>` of an image whose second layer
#     is 200 MB of incompressible bytes, uncompressed (make-test-image
#     --random-layer), content imported beforehand with --no-unpack; the
#     snapshots are removed between runs
#   - 100 Snapshots.Prepare + Remove pairs over gRPC (bench_snapshots_api)
# Prints every run and the median.
# Usage: bench/snapshots_bench.sh <build dir> [runs (default 5)]
set -eu
BUILD=${1:-build}
BUILD=$(cd "$BUILD" && pwd)
RUNS=${2:-5}
MCD=$BUILD/daemon/minicontainerd
MKIMG=$BUILD/tests/integration/make-test-image
API=$BUILD/bench/bench_snapshots_api
for f in "$MCD" "$MKIMG" "$API"; do
  [ -x "$f" ] || { echo "build $f first" >&2; exit 1; }
done
T=$(mktemp -d /tmp/mcd-bench-XXXXXX)
chmod 0711 "$T"
pids=""
cleanup() {
  for p in $pids; do kill "$p" 2>/dev/null || true; done
  for p in $pids; do wait "$p" 2>/dev/null || true; done
  grep -o " $T[^ ]*" /proc/self/mountinfo | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
  rm -rf "$T"
}
trap cleanup EXIT INT TERM
printf 'version = 2\ndisabled_plugins = ["io.containerd.grpc.v1.cri"]\n' > "$T/containerd.toml"

. "$(dirname "$0")/lib.sh"
bench_start_both

name() { [ "$1" = m ] && echo "minicontainerd" || echo "containerd    "; }
median() { sort -n | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
now() { date +%s.%N; }

echo "== unpack: busybox + 200 MB incompressible uncompressed layer (ctr snapshots unpack)"
MANIFEST=$("$MKIMG" "$T/big.tar" --random-layer 209715200)
for d in m r; do
  ctr -a "$T/$d/c.sock" -n bench images import --no-unpack "$T/big.tar" >/dev/null
done
i=0
while [ $i -lt "$RUNS" ]; do
  i=$((i + 1))
  for d in m r; do
    sync
    s=$(now)
    ctr -a "$T/$d/c.sock" -n bench snapshots unpack "$MANIFEST" >/dev/null
    e=$(now)
    echo "$s $e" | awk '{print $2-$1}' >>"$T/unpack.$d"
    # Drop the chain (top first) for the next run.
    for k in $(ctr -a "$T/$d/c.sock" -n bench snapshots ls | awk 'NR>1 && NF==3 {print $1}') \
             $(ctr -a "$T/$d/c.sock" -n bench snapshots ls | awk 'NR>1 && NF==2 {print $1}'); do
      ctr -a "$T/$d/c.sock" -n bench snapshots rm "$k" 2>/dev/null || true  # GC may be first
    done
  done
done
for d in m r; do
  printf '%s: median %.3f s (%.0f MB/s); runs:' "$(name $d)" "$(median <"$T/unpack.$d")" \
    "$(echo "$(median <"$T/unpack.$d")" | awk '{print 200/$1}')"
  tr '\n' ' ' <"$T/unpack.$d" | awk '{for (i=1;i<=NF;i++) printf " %.3f", $i; print ""}'
done

echo "== 100 Prepare+Remove pairs (gRPC)"
i=0
while [ $i -lt "$RUNS" ]; do
  i=$((i + 1))
  for d in m r; do
    sync  # no write-back of earlier runs competes with the fsyncs measured
    "$API" "$T/$d/c.sock" bench 100 >>"$T/pr.$d"
  done
done
for d in m r; do
  printf '%s: median %.1f ms (%.0f pairs/s); runs:' "$(name $d)" \
    "$(median <"$T/pr.$d" | awk '{print $1*1000}')" \
    "$(median <"$T/pr.$d" | awk '{print 100/$1}')"
  awk '{printf " %.1f", $1*1000} END {print " ms"}' <"$T/pr.$d"
done
