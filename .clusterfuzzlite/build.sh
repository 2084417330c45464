#!/bin/bash -eu
# .clusterfuzzlite/build.sh — builds threadlab's libFuzzer target the way
# OSS-Fuzz and ClusterFuzzLite expect, from the variables they set:
#   CC, CXX, CFLAGS, CXXFLAGS   compilers and sanitizer/coverage flags
#   LIB_FUZZING_ENGINE          the engine's link flags (-fsanitize=fuzzer, ...)
#   SRC (the tree is $SRC/threadlab), WORK (scratch), OUT (what it ships)
# Invariants: writes only under $WORK and $OUT; $OUT receives
#   threadlab_fuzz                   the target (fuzz/targets/libfuzzer_target.cpp)
#   threadlab_fuzz_seed_corpus.zip   fuzz/corpus/*.txt in the binary encoding
#                                    (what the target's input is), one file each
#   threadlab_fuzz.dict              fuzz/dict/ops.dict
# The seed encodings come from the `threadlab` built in the same tree with the
# same flags (its sanitizer's leak check is off while it encodes).

set -euo pipefail
src="$SRC/threadlab"
build="$WORK/build"

cmake -G Ninja -S "$src" -B "$build" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DTL_FUZZ_ENGINE=libfuzzer \
  -DTL_LIB_FUZZING_ENGINE="$LIB_FUZZING_ENGINE" \
  -DTL_BUILD_TESTS=OFF -DTL_BUILD_BENCH=OFF \
  -DCMAKE_C_COMPILER="$CC" -DCMAKE_CXX_COMPILER="$CXX" \
  -DCMAKE_C_FLAGS="${CFLAGS:-}" -DCMAKE_CXX_FLAGS="${CXXFLAGS:-}"
cmake --build "$build" --target threadlab_fuzz_libfuzzer threadlab -j"$(nproc)"

cp "$build/bin/threadlab_fuzz_libfuzzer" "$OUT/threadlab_fuzz"
cp "$src/fuzz/dict/ops.dict" "$OUT/threadlab_fuzz.dict"

seeds="$WORK/seed_corpus"
rm -rf "$seeds"
mkdir -p "$seeds"
for f in "$src"/fuzz/corpus/*.txt; do
  ASAN_OPTIONS=detect_leaks=0 "$build/bin/threadlab" encode "$f" -o "$seeds/$(basename "$f" .txt).bin"
done
rm -f "$OUT/threadlab_fuzz_seed_corpus.zip"
(cd "$seeds" && zip -q -j "$OUT/threadlab_fuzz_seed_corpus.zip" ./*.bin)
