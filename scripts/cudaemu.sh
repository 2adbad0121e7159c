#!/usr/bin/env bash
# The CUDA emulator (src/test/native/cudaemu): the project's kernels/*.cu compiled as C++ behind
# a CPU stand-in for libcuda.so.1, so that the CUDA backend and its tests run without a GPU.
#   scripts/cudaemu.sh build          builds target/cudaemu/libcuda.so.1
#   scripts/cudaemu.sh test [ARGS]    builds it, then runs the cuda-tagged tests against it
#                                     (extra ARGS go to Maven, e.g. -Dtest=CudaKernelsTest)
#   scripts/cudaemu.sh run CMD...     runs CMD with the emulator as its CUDA driver
#   scripts/cudaemu.sh dry CMD...     the same as a dry run: launches are checked and counted,
#                                     memory is reserved, nothing is computed (for launch counts
#                                     and the allocator's peak at full size, e.g. bench metagrad)
# Under the emulator a CUDA test that cannot open the device fails instead of skipping
# (MKDT_CUDA_REQUIRED=1), and outputs allocated without a memset start as NaN (MKDT_CUDA_POISON=1), so an
# element a kernel leaves unwritten fails the comparison. What it checks and what only a GPU can: src/test/native/cudaemu/README.md.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
src=src/test/native/cudaemu
out=target/cudaemu
cxx=${CXX:-g++}
flags=(-std=c++17 -O3 -g -fPIC -ffp-contract=off -fno-strict-aliasing -Wall -Werror -Wno-unknown-pragmas -I "$src")
# fmaf is the kernels' inner operation: inline it where the CPU has the instruction (a libm call
# otherwise). Exact either way, and -ffp-contract=off keeps the compiler from adding fusions.
grep -qw fma /proc/cpuinfo 2>/dev/null && flags+=(-mavx2 -mfma)

build() {
  command -v "$cxx" >/dev/null || { echo "cudaemu: no C++ compiler ($cxx); install g++" >&2; exit 1; }
  mkdir -p "$out/gen"
  local objs=() cu stem names gen
  for cu in kernels/*.cu; do
    stem=$(basename "$cu" .cu)
    # The kernels are the file's extern "C" functions, listed from the preprocessed text after
    # the header's marker, so that macro-made entry points are found too.
    names=$("$cxx" "${flags[@]}" -x c++ -E -P -include "$src/cuda_emu.h" "$cu" \
      | awk 'f; /cuda_emu_kernel_file_begins/ {f=1}' | tr '\n' ' ' \
      | grep -oE 'extern "C" +void +[A-Za-z_][A-Za-z0-9_]* *\(' | sed -E 's/.*void +([A-Za-z0-9_]+).*/\1/' || true)
    [ -n "$names" ] || { echo "cudaemu: no extern \"C\" kernel found in $cu" >&2; exit 1; }
    gen="$out/gen/$stem.cpp"
    { echo '#include "cuda_emu.h"'
      echo "#include \"$PWD/$cu\""
      echo '#include "cuda_emu_registry.h"'
      for n in $names; do echo "CUDA_EMU_KERNEL($n)"; done; } > "$gen.tmp"
    mv "$gen.tmp" "$gen"
    "$cxx" "${flags[@]}" -c "$gen" -o "$out/$stem.o"
    objs+=("$out/$stem.o")
  done
  "$cxx" "${flags[@]}" -c "$src/cuda_emu.cpp" -o "$out/cuda_emu.o"
  "$cxx" -shared -Wl,-soname,libcuda.so.1 -o "$out/libcuda.so.1.tmp" "$out/cuda_emu.o" "${objs[@]}"
  mv "$out/libcuda.so.1.tmp" "$out/libcuda.so.1"
  echo "cudaemu: built $out/libcuda.so.1 ($(ls kernels/*.cu | wc -l) kernel files)"
}

emulated() {
  LD_LIBRARY_PATH="$PWD/$out${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" MKDT_CUDA_REQUIRED=1 "$@"
}

case "${1:-}" in
  build) build ;;
  test) shift; build; export MKDT_CUDA_POISON=1; emulated mvn -B test -Dgroups=cuda -Dsurefire.failIfNoSpecifiedTests=false "$@" ;;
  run) shift; build >/dev/null; emulated "$@" ;;
  dry) shift; build >/dev/null; MKDT_CUDA_EMU_EXECUTE=0 emulated "$@" ;;
  *) sed -n '2,11p' "$0" >&2; exit 2 ;;
esac
