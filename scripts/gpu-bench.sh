#!/usr/bin/env bash
# MKDT on the GPU beside PyTorch, same card, same run (the GPU-MKDT issue's measurement),
# float32 on both (torch_reference.py defaults to fp32, TF32 off; mkdt has no TF32 path):
#   1. one distillation iteration's exact meta-gradient, N = 40, batch 256, 1000 images of
#      3x32x32, D = 512: `mkdt bench metagrad --device cuda` (1 segment; 4 segments as one
#      batch: seconds per segment; 1 segment with each step taken 64 images at a time: the
#      memory-lean setting) vs `torch_reference.py distill`; peak device memory of both;
#   2. expert training images/s, batch 256 per student: `mkdt bench experts --device cuda
#      --batch-students S` for S = 1, 4, 8 vs `torch_reference.py expert` (one student).
# Needs the bundle (scripts/gpu-bundle.sh) and scripts/reference/torch_reference.py (in the
# repository); run from the repository root on the GPU machine. Prints the
# BENCHMARKS.md table last (python3 formats it: the GPU machine has it for PyTorch anyway).
# GPU_BENCH_JMH=1 adds the JMH StudentStep/ExpertStep CUDA benchmarks (a few minutes more).
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
out="${OUT:-gpu-bench-out}"
mkdir -p "$out"
java=java
if ! java -version 2>&1 | grep -Eq 'version "(1[7-9]|[2-9][0-9])'; then java=.gpu/runtime/bin/java; fi
jflags=(--add-modules=jdk.incubator.vector -XX:MaxRAMPercentage=50)
cp=".gpu/app/mkdt.jar:.gpu/app/lib/*"
steps="${GPU_BENCH_STEPS:-40}"
iters="${GPU_BENCH_ITERATIONS:-3}"
# mk SECONDS ARGS...: one mkdt command under a time limit, without the JDK's incubator notice.
mk() { local t=$1; shift; timeout "$t" "$java" "${jflags[@]}" -cp "$cp" org.mkdt.cli.Main "$@" 2>&1 | grep -v '^WARNING: Using incubator'; }

nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$out/card.txt"
: > "$out/mkdt.jsonl"
mk 200 bench metagrad --device cuda --steps "$steps" --batch 256 --images 1000 --iterations "$iters" --json | tee -a "$out/mkdt.jsonl"
mk 200 bench metagrad --device cuda --segments 4 --steps "$steps" --batch 256 --images 1000 --iterations 2 --json | tee -a "$out/mkdt.jsonl"
mk 200 bench metagrad --device cuda --chunk 64 --steps "$steps" --batch 256 --images 1000 --iterations 2 --json | tee -a "$out/mkdt.jsonl"
# The same iteration with every launch timed by events (MKDT_CUDA_PROFILE=1: slower on the host,
# so not the timing figure): measured seconds per kernel and grid beside the dry run's model.
# The same iteration on the tensor cores: 3xTF32 (float32-grade) and plain TF32 (opt-in).
MKDT_CUDA_PRECISION=3xtf32 mk 200 bench metagrad --device cuda --steps "$steps" --batch 256 --images 1000 --iterations 2 --json > "$out/mkdt-3xtf32.jsonl"
MKDT_CUDA_PRECISION=tf32 mk 200 bench metagrad --device cuda --steps "$steps" --batch 256 --images 1000 --iterations 2 --json > "$out/mkdt-tf32.jsonl"
MKDT_CUDA_PRECISION=3xtf32 mk 120 bench experts --device cuda --batch-students 1 --batch 256 --steps 20 --warmup 2 --reps 3 --json >> "$out/mkdt-3xtf32.jsonl"
# The same iteration with the convolutions on im2col + GEMM instead of the implicit GEMM.
MKDT_CUDA_CONV=im2col mk 200 bench metagrad --device cuda --steps "$steps" --batch 256 --images 1000 --iterations 2 --json > "$out/mkdt-im2col.jsonl"
MKDT_CUDA_PROFILE=1 mk 200 bench metagrad --device cuda --steps "$steps" --batch 256 --images 1000 --iterations 1 > "$out/profile-metagrad.txt"
for s in 1 4 8; do
  mk 120 bench experts --device cuda --batch-students "$s" --batch 256 --steps 20 --warmup 2 --reps 3 --json | tee -a "$out/mkdt.jsonl"
done
if [ -f scripts/reference/torch_reference.py ]; then
  timeout 200 python3 scripts/reference/torch_reference.py distill --syn-steps "$steps" --batch-syn 256 --images 1000 --warmup 1 --reps "$iters" \
    2>&1 | tee "$out/torch.jsonl"
  timeout 100 python3 scripts/reference/torch_reference.py expert --batch 256 --steps 50 2>&1 | tee -a "$out/torch.jsonl"
  timeout 200 python3 scripts/reference/torch_reference.py distill --precision tf32 --syn-steps "$steps" --batch-syn 256 --images 1000 --warmup 1 --reps "$iters" \
    2>&1 | tee "$out/torch-tf32.jsonl"
  python3 -c 'import torch; print(torch.__version__)' > "$out/torch-version.txt" 2>/dev/null
fi
if [ "${GPU_BENCH_JMH:-0}" = 1 ]; then
  timeout 300 "$java" "${jflags[@]}" -cp "$cp" org.openjdk.jmh.Main 'StudentStepCudaBenchmark|ExpertStepCudaBenchmark' -wi 3 -w 1s -i 5 -r 1s -f 1 \
    -rf json -rff "$out/jmh.json" > "$out/jmh.log" 2>&1
  "$java" "${jflags[@]}" -cp "$cp" org.mkdt.bench.JmhTable "$out/jmh.json" 2>&1 | grep -v '^WARNING'
fi

echo
echo "== gpu-bench ($(cat "$out/card.txt"); PyTorch $(cat "$out/torch-version.txt" 2>/dev/null || echo '?'))"
python3 - "$out" <<'PY'
import json, sys, pathlib
out = pathlib.Path(sys.argv[1])
def rows(name):
    p = out / name
    return [json.loads(l) for l in p.read_text().splitlines() if l.startswith("{")] if p.exists() else []
mk, th, mi = rows("mkdt.jsonl"), rows("torch.jsonl"), rows("mkdt-im2col.jsonl")
m3, mt, tt = rows("mkdt-3xtf32.jsonl"), rows("mkdt-tf32.jsonl"), rows("torch-tf32.jsonl")
def one(rs, **kv):
    return next((r for r in rs if all(r.get(k) == v for k, v in kv.items())), None)
m1, m4 = one(mk, what="metagrad_iteration", segments=1, chunk=0), one(mk, what="metagrad_iteration", segments=4)
mc = one(mk, what="metagrad_iteration", segments=1, chunk=64)
td, te = one(th, what="distill_iteration"), one(th, what="expert_steps")
gb = lambda b: f"{b / 1e9:.2f} GB"
print("| measurement | mkdt | PyTorch | ratio (goal) |")
print("|---|---|---|---|")
if m1 and td:
    print(f"| s per MKDT iteration, 1 segment | {m1['seconds_median']:.3f} | {td['seconds_median']:.3f} | {m1['seconds_median'] / td['seconds_median']:.2f} (<= 0.33) |")
mi1 = one(mi, what="metagrad_iteration")
m31, mt1, e3 = one(m3, what="metagrad_iteration"), one(mt, what="metagrad_iteration"), one(m3, what="expert_steps")
tdt = one(tt, what="distill_iteration")
if m31 and td:
    print(f"| s per MKDT iteration, 1 segment, 3xTF32 tensor cores (MKDT_CUDA_PRECISION=3xtf32) | {m31['seconds_median']:.3f} | {td['seconds_median']:.3f} | {m31['seconds_median'] / td['seconds_median']:.2f} (<= 0.33) |")
if mt1 and tdt:
    print(f"| s per MKDT iteration, 1 segment, TF32 both (MKDT_CUDA_PRECISION=tf32; torch --precision tf32) | {mt1['seconds_median']:.3f} | {tdt['seconds_median']:.3f} | {mt1['seconds_median'] / tdt['seconds_median']:.2f} (<= 0.5) |")
if e3 and te:
    print(f"| expert images/s, 1 student, 3xTF32 | {e3['images_per_second']:,.0f} | {te['images_per_second']:,.0f} | {e3['images_per_second'] / te['images_per_second']:.2f} (>= 3) |")
if mi1 and td:
    print(f"| s per MKDT iteration, 1 segment, im2col convolutions (MKDT_CUDA_CONV=im2col) | {mi1['seconds_median']:.3f} | {td['seconds_median']:.3f} | {mi1['seconds_median'] / td['seconds_median']:.2f} |")
if m4 and td:
    print(f"| s per segment, 4 segments as one batch | {m4['seconds_per_segment']:.3f} | {td['seconds_median']:.3f} | {m4['seconds_per_segment'] / td['seconds_median']:.2f} (<= 0.33) |")
if m1 and td:
    peak = m1.get("device_peak_reserved_bytes", 0)
    print(f"| peak device memory, 1 segment (mkdt: reserved) | {gb(peak)} | {gb(td['peak_bytes'])} | {peak / td['peak_bytes']:.3f} (<= 0.05) |")
if mc and td:
    peak = mc.get("device_peak_reserved_bytes", 0)
    print(f"| s per MKDT iteration, steps in chunks of 64 images | {mc['seconds_median']:.3f} | {td['seconds_median']:.3f} | {mc['seconds_median'] / td['seconds_median']:.2f} (<= 0.33) |")
    print(f"| peak device memory, chunks of 64 (mkdt: reserved) | {gb(peak)} | {gb(td['peak_bytes'])} | {peak / td['peak_bytes']:.3f} (<= 0.05) |")
if m1 and "kernel_launches_per_iteration" in m1:
    n = m1["kernel_launches_per_iteration"]
    print(f"| kernel launches per MKDT iteration (what a CUDA graph would replace) | {n:,} ({m1['seconds_median'] / n * 1e6:.1f} us of iteration per launch) | - | - |")
for s in (1, 4, 8):
    e = one(mk, what="expert_steps", batch_students=s)
    if e and te:
        print(f"| expert training images/s, {s} student(s) at once | {e['images_per_second']:,.0f} | {te['images_per_second']:,.0f} (1 student) | {e['images_per_second'] / te['images_per_second']:.2f} (>= 2) |")
PY
