#!/bin/sh
# Builds the libFuzzer targets with clang in a separate build directory and
# runs each for a bounded time. Usage: tests/fuzz/run.sh [seconds per target]
# Env: FUZZ_BUILD_DIR (default build-fuzz).
set -eu
cd "$(dirname "$0")/../.."
secs=${1:-60}
dir=${FUZZ_BUILD_DIR:-build-fuzz}  # /build*/ is ignored by git

if ! command -v clang++ >/dev/null 2>&1 || ! ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1; then
  apt-get install -y clang libclang-rt-14-dev
fi

if [ ! -f "$dir/CMakeCache.txt" ]; then
  cmake -S . -B "$dir" -G Ninja -DMCD_FUZZ=ON \
    -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo
fi
cmake --build "$dir" --target fuzz_ttrpc_frame

corpus="$dir/corpus/ttrpc_frame"
mkdir -p "$corpus"
# Seeds: a request and a response frame as the wire carries them.
printf '\000\000\000\000\000\014\000\000\000\001\001\000\012\001s\022\001m\032\004ping' > "$corpus/seed-request"
printf '\000\000\000\000\000\010\000\000\000\001\002\000\012\002\010\005\022\002ok' > "$corpus/seed-response"

"$dir/tests/fuzz/fuzz_ttrpc_frame" -max_total_time="$secs" -max_len=65536 -rss_limit_mb=1024 \
  -print_final_stats=1 "$corpus"
