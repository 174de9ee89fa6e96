#!/bin/bash
# Runtime benchmark: minicontainerd beside containerd 1.6.20 in one run.
#   - `ctr run --rm busybox true`: latency p50/p95 over N sequential runs
#   - 20 such runs at once: wall time
#   - recovery: 20 running containers, SIGKILL the daemon, restart it: time
#     from exec until `ctr task ls` lists all 20 RUNNING
#   - the floor: `runc run` of a prepared bundle (no daemon, no shim)
# Usage: bench/runtime_bench.sh [BUILD_DIR] (default: build). Needs root.
set -euo pipefail
BUILD=${1:-build}
MCD=$(realpath "$BUILD/daemon/minicontainerd")
MKIMG=$(realpath "$BUILD/tests/integration/make-test-image")
N=${N:-30}
PAR=${PAR:-20}
IMG=docker.io/library/busybox:latest
WORK=$(mktemp -d /tmp/mcd-rtbench-XXXXXX)
chmod 0711 "$WORK"
PIDS=()

now_ms() { date +%s%3N; }

cleanup() {
  for sock in "$WORK"/*/c.sock; do
    [ -S "$sock" ] || continue
    for id in $(ctr -a "$sock" task ls -q 2>/dev/null); do ctr -a "$sock" task rm -f "$id" >/dev/null 2>&1 || true; done
  done
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  grep -o "$WORK[^ ]*" /proc/self/mountinfo 2>/dev/null | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# start_daemon NAME: starts minicontainerd or containerd on $WORK/NAME, waits for it.
start_daemon() {
  local name=$1 dir=$WORK/$1
  mkdir -p "$dir"
  if [ "$name" = containerd ]; then
    printf 'version = 2\ndisabled_plugins = ["io.containerd.grpc.v1.cri"]\n' > "$dir/config.toml"
    containerd --root "$dir/root" --state "$dir/state" -a "$dir/c.sock" --config "$dir/config.toml" \
      >>"$dir/log" 2>&1 &
  else
    "$MCD" --root "$dir/root" --state "$dir/state" -a "$dir/c.sock" >>"$dir/log" 2>&1 &
  fi
  DAEMON_PID=$!
  PIDS+=("$DAEMON_PID")
  until ctr -a "$dir/c.sock" version >/dev/null 2>&1; do :; done
}

percentile() { # file p
  sort -n "$1" | awk -v p="$2" '{a[NR]=$1} END {i=int((NR*p+99)/100); if (i<1) i=1; print a[i]}'
}

"$MKIMG" "$WORK/busybox.tar" >/dev/null

declare -A RES
for name in minicontainerd containerd; do
  start_daemon "$name"
  sock=$WORK/$name/c.sock
  ctr -a "$sock" images import "$WORK/busybox.tar" >/dev/null
  ctr -a "$sock" run --rm "$IMG" warm true
  : > "$WORK/$name.lat"
  for i in $(seq "$N"); do
    s=$(now_ms); ctr -a "$sock" run --rm "$IMG" "l$i" true; e=$(now_ms)
    echo $((e - s)) >> "$WORK/$name.lat"
  done
  RES[$name.p50]=$(percentile "$WORK/$name.lat" 50)
  RES[$name.p95]=$(percentile "$WORK/$name.lat" 95)
  s=$(now_ms)
  RUNS=()
  for i in $(seq "$PAR"); do ctr -a "$sock" run --rm "$IMG" "p$i" true & RUNS+=($!); done
  for p in "${RUNS[@]}"; do wait "$p"; done
  RES[$name.par]=$(( $(now_ms) - s ))
  for i in $(seq "$PAR"); do ctr -a "$sock" run -d "$IMG" "r$i" sleep 1000 >/dev/null; done
  kill -9 "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null || true
  s=$(now_ms)
  start_daemon "$name"
  until [ "$(ctr -a "$sock" task ls 2>/dev/null | grep -c RUNNING)" = "$PAR" ]; do :; done
  RES[$name.recover]=$(( $(now_ms) - s ))
  for i in $(seq "$PAR"); do ctr -a "$sock" task rm -f "r$i" >/dev/null; ctr -a "$sock" c rm "r$i" >/dev/null; done
done

# The floor: runc alone on a bundle whose rootfs is busybox.
B=$WORK/floor
mkdir -p "$B/rootfs/bin" "$B/rootfs/proc" "$B/rootfs/dev" "$B/rootfs/sys"
cp /bin/busybox "$B/rootfs/bin/busybox"; ln -s busybox "$B/rootfs/bin/true"
(cd "$B" && runc spec && sed -i 's/"terminal": true/"terminal": false/; s/"sh"/"true"/' config.json)
: > "$WORK/floor.lat"
for i in $(seq "$N"); do
  s=$(now_ms); runc run -b "$B" "mcd-floor-$$-$i" </dev/null >/dev/null; e=$(now_ms)
  echo $((e - s)) >> "$WORK/floor.lat"
done
FP50=$(percentile "$WORK/floor.lat" 50); FP95=$(percentile "$WORK/floor.lat" 95)

printf '\n%-34s %15s %12s\n' "ctr run --rm ... true (ms)" minicontainerd containerd
printf '%-34s %15s %12s\n' "latency p50 (n=$N)" "${RES[minicontainerd.p50]}" "${RES[containerd.p50]}"
printf '%-34s %15s %12s\n' "latency p95 (n=$N)" "${RES[minicontainerd.p95]}" "${RES[containerd.p95]}"
printf '%-34s %15s %12s\n' "$PAR at once, wall" "${RES[minicontainerd.par]}" "${RES[containerd.par]}"
printf '%-34s %15s %12s\n' "recover $PAR running after SIGKILL" "${RES[minicontainerd.recover]}" "${RES[containerd.recover]}"
printf '%-34s %15s\n' "floor: runc run p50 / p95" "$FP50 / $FP95"
