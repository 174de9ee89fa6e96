#!/bin/bash
# The Debian 12 packages minicontainerd needs to build, run and test: one
# list, used by scripts/run.sh and scripts/test.sh (and so by .ci/run).
# Append a package on its own line; keep it a plain list.
#
# Source this file, then call `mcd_install_deps`: it installs only what is
# missing, running `apt-get update` once at most.

MCD_PACKAGES=(
  # build
  cmake
  ninja-build
  g++
  pkg-config
  protobuf-compiler
  protobuf-compiler-grpc
  libgrpc++-dev
  libprotobuf-dev
  librocksdb-dev
  libboost-dev
  libboost-system-dev
  libspdlog-dev
  libfmt-dev
  libtomlplusplus-dev
  libcli11-dev
  nlohmann-json3-dev
  libarchive-dev
  libssl-dev
  libre2-dev
  # the btrfs snapshotter's subvolumes
  libbtrfsutil-dev
  # static archives the daemon links (MCD_STATIC_DEPS): libarchive-dev does
  # not pull in its own dependencies' -dev packages
  nettle-dev
  libxml2-dev
  libicu-dev
  liblzma-dev
  libzstd-dev
  liblz4-dev
  libbz2-dev
  zlib1g-dev
  libsnappy-dev
  # the .proto files of containerd 1.6.20 and gogo's google/rpc
  golang-github-containerd-containerd-dev
  golang-github-gogo-googleapis-dev
  # containerd/cgroups' stats/v1/metrics.proto (a v1 task's Metrics)
  golang-github-containerd-cgroups-dev
  # tests and benchmarks
  libgtest-dev
  libgmock-dev
  libbenchmark-dev
  # the reference daemon, ctr, the shim and runc; busybox for test images
  containerd
  runc
  busybox-static
  # the containerd Go client test program (built offline from the sources above)
  golang-go
  # mkfs.btrfs: a loop-mounted btrfs for the btrfs snapshotter's tests
  btrfs-progs
  # script(1): a pty for `ctr run -t` tests
  bsdutils
  # a local registry for `ctr images push` / `pull` tests
  docker-registry
  # libFuzzer targets (tests/fuzz/run.sh)
  clang
  libclang-rt-14-dev
)

mcd_install_deps() {
  local missing=()
  local p
  for p in "${MCD_PACKAGES[@]}"; do
    # Installed means status "install ok installed"; anything else is missing.
    if [[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" != "install ok installed" ]]; then
      missing+=("$p")
    fi
  done
  if [[ ${#missing[@]} -eq 0 ]]; then
    return 0
  fi
  echo "installing: ${missing[*]}" >&2
  local sudo=()
  if [[ $(id -u) -ne 0 ]]; then
    sudo=(sudo)
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -q
  "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
}
