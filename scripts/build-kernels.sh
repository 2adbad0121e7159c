#!/usr/bin/env bash
# Compiles kernels/*.cu into the classpath resources src/main/resources/org/mkdt/kernels/STEM.fatbin
# (sm_80 and sm_90 machine code, plus compute_90 PTX that newer GPUs JIT). The fatbins are
# committed, so machines without nvcc build and run the project; SOURCES.sha256 records the
# source each was built from, and KernelImagesTest fails when a .cu changed without a rebuild.
#
#   scripts/build-kernels.sh            rebuild the stale ones (what the Maven build runs)
#   scripts/build-kernels.sh --all      rebuild every kernel
#   scripts/build-kernels.sh --check    only report stale ones (exit 1 if any); needs no nvcc
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
src="$here/kernels"
out="$here/src/main/resources/org/mkdt/kernels"
manifest="$out/SOURCES.sha256"
mode="${1:-stale}"
NVCC="${NVCC:-nvcc}"
flags=(-O3 -std=c++17 -Werror all-warnings -fatbin
       -gencode arch=compute_80,code=sm_80
       -gencode arch=compute_90,code=sm_90
       -gencode arch=compute_90,code=compute_90)

mkdir -p "$out"
touch "$manifest"
recorded() { awk -v f="$1" '$2 == f { print $1 }' "$manifest"; }
# A .cu's recorded hash covers the .cu and every kernels/*.cuh (the headers it may include), so
# a header change marks every image stale; KernelImagesTest computes the same.
source_sum() { cat "$1" $(ls "$src"/*.cuh 2>/dev/null | sort) | sha256sum | cut -d' ' -f1; }

stale=()
for cu in "$src"/*.cu; do
  stem="$(basename "$cu" .cu)"
  sum="$(source_sum "$cu")"
  if [ "$mode" = "--all" ] || [ ! -f "$out/$stem.fatbin" ] || [ "$(recorded "$stem.cu")" != "$sum" ]; then
    stale+=("$stem")
  fi
done

if [ "$mode" = "--check" ]; then
  if [ ${#stale[@]} -gt 0 ]; then echo "stale kernel images: ${stale[*]} (run scripts/build-kernels.sh)" >&2; exit 1; fi
  echo "kernel images up to date"; exit 0
fi
[ ${#stale[@]} -eq 0 ] && exit 0
if ! command -v "$NVCC" >/dev/null 2>&1; then
  echo "build-kernels: nvcc not found; stale kernel images kept as committed: ${stale[*]}" >&2
  exit 0
fi
for stem in "${stale[@]}"; do
  echo "build-kernels: nvcc kernels/$stem.cu" >&2
  tmp="$(mktemp "$out/.$stem.XXXXXX")"
  "$NVCC" "${flags[@]}" -o "$tmp" "$src/$stem.cu"
  mv -f "$tmp" "$out/$stem.fatbin"
  chmod 0644 "$out/$stem.fatbin"
  sum="$(source_sum "$src/$stem.cu")"
  { grep -v "  $stem.cu\$" "$manifest" || true; echo "$sum  $stem.cu"; } | sort -k2 > "$manifest.tmp"
  mv -f "$manifest.tmp" "$manifest"
done
