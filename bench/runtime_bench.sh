#!/bin/bash
# Runtime benchmark: minicontainerd beside containerd 1.6.20 in one run, both
# daemons up at once on their own temporary root, state and socket.
#   - `ctr run --rm busybox true`: latency p50/p95 over N sequential runs,
#     alternating between the two daemons run by run (fair under a changing
#     machine load)
#   - the same lifecycle through the containerd Go client in one process
#     (bench/golifecycle: no ctr start-up per run), p50/p95 over N, in
#     blocks of 5 alternating between the daemons (each block's process
#     first runs one lifecycle that is not counted: its connection's warm-up)
#   - PAR such runs at once: wall time
#   - recovery: PAR running containers, SIGKILL the daemon, start it again:
#     (a) from exec until `ctr task ls` lists all PAR RUNNING
#     (b) the daemon's own figure: minicontainerd's "reconnected N shims in
#         X ms" log line; for containerd the time its runtime v2 plugin took to
#         load (from its "loading plugin io.containerd.runtime.v2.task" log
#         line to the next plugin's)
#   - the floor: `runc run` of a prepared busybox bundle (no daemon, no shim)
# Usage: bench/runtime_bench.sh [BUILD_DIR] (default: build). Needs root,
# overlayfs, containerd, ctr, runc, containerd-shim-runc-v2 and Go with
# Debian's containerd sources (the integration tests' packages).
set -euo pipefail
BUILD=${1:-build}
MCD=$(realpath "$BUILD/daemon/minicontainerd")
MKIMG=$(realpath "$BUILD/tests/integration/make-test-image")
N=${N:-30}
PAR=${PAR:-20}
IMG=docker.io/library/busybox:latest
WORK=$(mktemp -d /tmp/mcd-rtbench-XXXXXX)
chmod 0711 "$WORK"
NAMES=(minicontainerd containerd)
declare -A NS=([minicontainerd]=rtbench-m-$$ [containerd]=rtbench-c-$$)
declare -A PID

now_ms() { date +%s%3N; }
c() { # c NAME ctr-args...: ctr against daemon NAME in its bench namespace
  local name=$1
  shift
  ctr -a "$WORK/$name/c.sock" -n "${NS[$name]}" "$@"
}

# start_daemon NAME: starts minicontainerd or containerd on $WORK/NAME.
start_daemon() {
  local name=$1 dir=$WORK/$1
  mkdir -p "$dir"
  if [ "$name" = containerd ]; then
    printf 'version = 2\ndisabled_plugins = ["io.containerd.grpc.v1.cri"]\n' >"$dir/config.toml"
    containerd --root "$dir/root" --state "$dir/state" -a "$dir/c.sock" \
      --config "$dir/config.toml" >>"$dir/log" 2>&1 &
  else
    "$MCD" --root "$dir/root" --state "$dir/state" -a "$dir/c.sock" >>"$dir/log" 2>&1 &
  fi
  PID[$name]=$!
}
wait_daemon() { until ctr -a "$WORK/$1/c.sock" version >/dev/null 2>&1; do :; done; }
daemon_alive() { [ -n "${PID[$1]:-}" ] && kill -0 "${PID[$1]}" 2>/dev/null; }

cleanup() {
  set +e
  local socks=()
  for name in "${NAMES[@]}"; do
    [ -d "$WORK/$name" ] || continue
    # Tasks may have outlived a killed daemon: a daemon is needed to remove them.
    if ! daemon_alive "$name" && [ -n "$(ls -A "$WORK/$name/state/io.containerd.runtime.v2.task" 2>/dev/null)" ]; then
      start_daemon "$name"
      for _ in $(seq 500); do ctr -a "$WORK/$name/c.sock" version >/dev/null 2>&1 && break; sleep 0.02; done
    fi
    for a in "$WORK/$name"/state/io.containerd.runtime.v2.task/*/*/address; do
      [ -f "$a" ] && socks+=("$(sed 's|^unix://||' "$a")")
    done
    if daemon_alive "$name"; then
      for id in $(c "$name" task ls -q 2>/dev/null); do c "$name" task rm -f "$id" >/dev/null 2>&1; done
      for id in $(c "$name" c ls -q 2>/dev/null); do c "$name" c rm "$id" >/dev/null 2>&1; done
      kill "${PID[$name]}"
      wait "${PID[$name]}" 2>/dev/null
    fi
  done
  # Sockets of shims that did not shut down cleanly.
  for s in "${socks[@]}"; do [ -S "$s" ] && rm -f "$s"; done
  grep -o "$WORK[^ ]*" /proc/self/mountinfo 2>/dev/null | sort -r | xargs -r -n1 umount -l 2>/dev/null
  # runc state and cgroup parents of the bench namespaces.
  for name in "${NAMES[@]}"; do
    rmdir "/run/containerd/runc/${NS[$name]}" 2>/dev/null
    for d in /sys/fs/cgroup/*/"${NS[$name]}" /sys/fs/cgroup/"${NS[$name]}"; do
      [ -d "$d" ] && rmdir "$d" 2>/dev/null
    done
  done
  rm -rf "$WORK"
}
trap cleanup EXIT

percentile() { # file p
  sort -n "$1" | awk -v p="$2" '{a[NR]=$1} END {i=int((NR*p+99)/100); if (i<1) i=1; print a[i]}'
}
# Seconds since midnight of a containerd log line's time="...".
log_seconds() { sed -E 's/^time="[^T]*T([0-9]+):([0-9]+):([0-9.]+)Z".*/\1 \2 \3/' | awk '{printf "%.6f\n", $1*3600+$2*60+$3}'; }

"$MKIMG" "$WORK/busybox.tar" >/dev/null
(cd "$(dirname "$0")/golifecycle" &&
  GO111MODULE=off GOPATH=/usr/share/gocode GOFLAGS= CGO_ENABLED=0 go build -o "$WORK/golifecycle" .)

declare -A RES
for name in "${NAMES[@]}"; do start_daemon "$name"; done
for name in "${NAMES[@]}"; do
  wait_daemon "$name"
  c "$name" images import "$WORK/busybox.tar" >/dev/null
  c "$name" run --rm "$IMG" warm true
  : >"$WORK/$name.lat"
done

# Latency: alternate the daemons run by run, and which goes first.
for i in $(seq "$N"); do
  order=("${NAMES[@]}")
  [ $((i % 2)) = 0 ] && order=(containerd minicontainerd)
  for name in "${order[@]}"; do
    s=$(now_ms)
    c "$name" run --rm "$IMG" "l$i" true
    echo $(($(now_ms) - s)) >>"$WORK/$name.lat"
  done
done

# Go client: blocks of 5 lifecycles (+1 warm-up), alternating.
for name in "${NAMES[@]}"; do : >"$WORK/$name.golat"; done
for b in $(seq $(((N + 4) / 5))); do
  order=("${NAMES[@]}")
  [ $((b % 2)) = 0 ] && order=(containerd minicontainerd)
  for name in "${order[@]}"; do
    "$WORK/golifecycle" "$WORK/$name/c.sock" "${NS[$name]}" "$IMG" 6 | tail -n +2 >>"$WORK/$name.golat"
  done
done

for name in "${NAMES[@]}"; do
  RES[$name.go50]=$(percentile "$WORK/$name.golat" 50)
  RES[$name.go95]=$(percentile "$WORK/$name.golat" 95)
  RES[$name.p50]=$(percentile "$WORK/$name.lat" 50)
  RES[$name.p95]=$(percentile "$WORK/$name.lat" 95)
  s=$(now_ms)
  RUNS=()
  for i in $(seq "$PAR"); do
    c "$name" run --rm "$IMG" "p$i" true &
    RUNS+=($!)
  done
  for p in "${RUNS[@]}"; do wait "$p"; done
  RES[$name.par]=$(($(now_ms) - s))
done

for name in "${NAMES[@]}"; do
  for i in $(seq "$PAR"); do c "$name" run -d "$IMG" "r$i" sleep 1000 >/dev/null; done
  kill -9 "${PID[$name]}"
  wait "${PID[$name]}" 2>/dev/null || true
  before=$(wc -l <"$WORK/$name/log")
  s=$(now_ms)
  start_daemon "$name"
  until [ "$(c "$name" task ls 2>/dev/null | grep -c RUNNING)" = "$PAR" ]; do :; done
  RES[$name.recover]=$(($(now_ms) - s))
  newlog=$(tail -n +$((before + 1)) "$WORK/$name/log")
  if [ "$name" = minicontainerd ]; then
    RES[$name.reconnect]=$(grep -o 'reconnected [0-9]* shims in [0-9.]* ms' <<<"$newlog" | awk '{print $5}' | tail -1)
  else
    t0=$(grep -m1 'loading plugin \\"io.containerd.runtime.v2.task\\"' <<<"$newlog" | log_seconds)
    t1=$(grep -A1 'loading plugin \\"io.containerd.runtime.v2.task\\"' <<<"$newlog" | grep 'loading plugin' | tail -1 | log_seconds)
    RES[$name.reconnect]=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", (b - a) * 1000}')
  fi
  for i in $(seq "$PAR"); do
    c "$name" task rm -f "r$i" >/dev/null
    c "$name" c rm "r$i" >/dev/null
  done
done

# The floor: runc alone on a bundle whose rootfs is busybox.
B=$WORK/floor
mkdir -p "$B/rootfs/bin" "$B/rootfs/proc" "$B/rootfs/dev" "$B/rootfs/sys"
cp /bin/busybox "$B/rootfs/bin/busybox"
ln -s busybox "$B/rootfs/bin/true"
(cd "$B" && runc spec && sed -i 's/"terminal": true/"terminal": false/; s/"sh"/"true"/' config.json)
: >"$WORK/floor.lat"
for i in $(seq "$N"); do
  s=$(now_ms)
  runc run -b "$B" "mcd-floor-$$-$i" </dev/null >/dev/null
  echo $(($(now_ms) - s)) >>"$WORK/floor.lat"
done
FP50=$(percentile "$WORK/floor.lat" 50)
FP95=$(percentile "$WORK/floor.lat" 95)

printf '\n%s, %s CPUs, kernel %s, load average at end %s\n' \
  "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')" "$(nproc)" "$(uname -r)" \
  "$(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-44s %15s %12s\n' "measure (ms)" minicontainerd containerd
printf '%-44s %15s %12s\n' "ctr run --rm true, p50 (n=$N)" "${RES[minicontainerd.p50]}" "${RES[containerd.p50]}"
printf '%-44s %15s %12s\n' "ctr run --rm true, p95 (n=$N)" "${RES[minicontainerd.p95]}" "${RES[containerd.p95]}"
printf '%-44s %15s %12s\n' "Go client lifecycle, p50 (n=$(wc -l <"$WORK/minicontainerd.golat"))" "${RES[minicontainerd.go50]}" "${RES[containerd.go50]}"
printf '%-44s %15s %12s\n' "Go client lifecycle, p95" "${RES[minicontainerd.go95]}" "${RES[containerd.go95]}"
printf '%-44s %15s %12s\n' "$PAR at once, wall" "${RES[minicontainerd.par]}" "${RES[containerd.par]}"
printf '%-44s %15s %12s\n' "recover $PAR: exec to all RUNNING in ctr" "${RES[minicontainerd.recover]}" "${RES[containerd.recover]}"
printf '%-44s %15s %12s\n' "recover $PAR: daemon's own figure" "${RES[minicontainerd.reconnect]}" "${RES[containerd.reconnect]}"
printf '%-44s %15s\n' "floor: runc run p50 / p95 (n=$N)" "$FP50 / $FP95"
