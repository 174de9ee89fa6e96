# Sourced by the bench scripts: minicontainerd and containerd side by side.
# Needs T (the work dir, with $T/containerd.toml written) and MCD; the
# daemons' pids are added to $pids for the caller's cleanup.

bench_start() {  # name cmd... ; returns once the socket answers
  name=$1; shift
  "$@" >"$T/$name.log" 2>&1 &
  pids="$pids $!"
  i=0
  until ctr -a "$T/$name/c.sock" version >/dev/null 2>&1; do
    i=$((i + 1)); [ $i -lt 500 ] || { cat "$T/$name.log"; exit 1; }
    sleep 0.02
  done
}

# minicontainerd on $T/m, containerd on $T/r.
bench_start_both() {
  mkdir -p "$T/m" "$T/r"
  bench_start m "$MCD" --root "$T/m/root" --state "$T/m/state" --address "$T/m/c.sock"
  bench_start r /usr/bin/containerd --root "$T/r/root" --state "$T/r/state" -a "$T/r/c.sock" \
    --config "$T/containerd.toml"
}
