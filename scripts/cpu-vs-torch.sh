#!/usr/bin/env bash
# The CPU engine beside PyTorch CPU (and numpy's SGEMM) on the same cores, one after another in
# one run, and the table of issue "the CPU engine at this machine's limit" with the ratios:
#   expert training step, batch 256 (images/s)       ./mkdt bench experts   vs torch_reference.py expert
#   one meta-gradient iteration, N = 10, batch 64,    ./mkdt bench metagrad  vs torch_reference.py distill
#     200 images (s), and the peak RSS of both runs
#   SGEMM n = 1024 (GFLOP/s)                          ./mkdt bench cpu       vs numpy_reference.py gemm
# Installs nothing. PyTorch is Debian's python3-torch (apt-get install python3-torch), which
# installs for Debian's own /usr/bin/python3; TORCH_PYTHON names another interpreter with torch.
# NUMPY_PYTHON (default: python3) runs numpy. MKDT_THREADS (default: all cores) is the thread
# count of both engines. Takes about 5-10 minutes on 2 cores.
# Usage: scripts/cpu-vs-torch.sh [--paper]; --paper adds the meta-gradient at the paper's shape
# (N = 40, batch 256, 1000 images: several minutes more, and PyTorch's memory).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
py="${TORCH_PYTHON:-/usr/bin/python3}"
if ! "$py" -c "import torch" >/dev/null 2>&1; then
  echo "cpu-vs-torch: no PyTorch for $py: install Debian's python3-torch (apt-get install python3-torch) or set TORCH_PYTHON to a python3 that has torch" >&2
  exit 2
fi
command -v /usr/bin/time >/dev/null 2>&1 || { echo "cpu-vs-torch: /usr/bin/time is missing (apt-get install time): it measures mkdt's peak RSS" >&2; exit 2; }
threads="${MKDT_THREADS:-$(nproc)}"
export MKDT_THREADS="$threads"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
shapes=("10 64 200")
[ "${1:-}" = "--paper" ] && shapes+=("40 256 1000")

echo "cpu-vs-torch: $threads threads; $(lscpu | sed -n 's/^Model name: *//p'); logs in $out" >&2
./mkdt bench experts --json --steps 3 --reps 3 --warmup 4 | grep '^{' > "$out/mkdt_expert.json"
"$py" scripts/reference/torch_reference.py expert --device cpu --threads "$threads" --batch 256 --steps 3 --reps 3 | grep '^{' > "$out/torch_expert.json"
for s in "${shapes[@]}"; do
  read -r n b m <<< "$s"
  /usr/bin/time -f %M -o "$out/mkdt_rss_$n" ./mkdt bench metagrad --json --steps "$n" --batch "$b" --images "$m" --iterations 3 | grep '^{' > "$out/mkdt_meta_$n.json"
  "$py" scripts/reference/torch_reference.py distill --device cpu --threads "$threads" --syn-steps "$n" --batch-syn "$b" --images "$m" --reps 3 --warmup 1 \
    | grep '^{' > "$out/torch_meta_$n.json"
done
./mkdt bench cpu --json --sizes 1024 --reps 3 | grep '^{' > "$out/mkdt_cpu.json"
"${NUMPY_PYTHON:-python3}" scripts/reference/numpy_reference.py gemm --sizes 1024 | grep '^{' > "$out/numpy_gemm.json"

"$py" - "$out" "${shapes[@]}" <<'PY'
import json, sys, os
out, shapes = sys.argv[1], [s.split() for s in sys.argv[2:]]
def load(name, what):
    for line in open(os.path.join(out, name)):
        d = json.loads(line)
        if d.get("what") == what:
            return d
    raise SystemExit(f"cpu-vs-torch: no '{what}' line in {name}")
me, te = load("mkdt_expert.json", "expert_steps"), load("torch_expert.json", "expert_steps")
print("| measurement | mkdt | PyTorch CPU | ratio |")
print("|---|---|---|---|")
print(f"| expert training step, batch 256 (images/s) | {me['images_per_second']:.1f} | {te['images_per_second']:.1f} | {me['images_per_second'] / te['images_per_second']:.2f}x |")
for n, b, m in shapes:
    mm, tm = load(f"mkdt_meta_{n}.json", "metagrad_iteration"), load(f"torch_meta_{n}.json", "distill_iteration")
    rss = int(open(os.path.join(out, f"mkdt_rss_{n}")).read().split()[-1]) * 1024
    print(f"| one meta-gradient iteration, N = {n}, batch {b}, {m} images (s) | {mm['seconds_median']:.2f} | {tm['seconds_median']:.2f} | {tm['seconds_median'] / mm['seconds_median']:.2f}x faster |")
    print(f"| peak RSS of that run (GB) | {rss / 1e9:.2f} | {tm['peak_bytes'] / 1e9:.2f} | {rss / tm['peak_bytes']:.2f}x |")
mg = load("mkdt_cpu.json", "sgemm")
ng = load("numpy_gemm.json", "sgemm")
print(f"| SGEMM n = 1024 (GFLOP/s; numpy, not PyTorch) | {mg['gflops_median']:.1f} | {ng['gflops_median']:.1f} | {mg['gflops_median'] / ng['gflops_median']:.2f}x |")
ms = load("mkdt_cpu.json", "student_step")
print(f"\nmkdt student step (forward, MSE, backward; no update): {ms['images_per_second']:.1f} images/s; "
      f"the first one in a fresh JVM took {ms['first_step_seconds']:.2f} s (goal: 2 s)")
PY
