#!/usr/bin/env bash
# MKDT on the GPU beside PyTorch, same card, same run (the GPU-MKDT issue's measurement):
#   - one distillation iteration's exact meta-gradient, N = 40, batch 256, 1000 images of
#     3x32x32, D = 512: `mkdt bench metagrad --device cuda` vs torch_reference.py distill;
#   - expert training throughput (student steps, batch 256): StudentStepCudaBenchmark vs
#     torch_reference.py expert.
# Needs the bundle (scripts/gpu-bundle.sh) and ../shared/bench/torch_reference.py copied to
# .gpu/torch_reference.py; run from the repository root on the GPU machine. Prints a table last.
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

nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$out/card.txt"
timeout 300 "$java" "${jflags[@]}" -cp "$cp" org.mkdt.cli.Main bench metagrad --device cuda --steps "$steps" --batch 256 --images 1000 \
  --iterations "$iters" --json 2>&1 | grep -v '^WARNING: Using incubator' | tee "$out/mkdt-metagrad.jsonl"
if [ -f .gpu/torch_reference.py ]; then
  timeout 200 python3 .gpu/torch_reference.py distill --syn-steps "$steps" --batch-syn 256 --images 1000 --warmup 1 --reps "$iters" \
    2>&1 | tee "$out/torch-distill.jsonl"
  timeout 100 python3 .gpu/torch_reference.py expert --batch 256 --steps 50 2>&1 | tee "$out/torch-expert.jsonl"
fi
timeout 120 "$java" "${jflags[@]}" -cp "$cp" org.openjdk.jmh.Main StudentStepCudaBenchmark -wi 3 -w 1s -i 5 -r 1s -f 1 \
  -rf json -rff "$out/mkdt-student-step.json" > "$out/jmh.log" 2>&1

echo
echo "== gpu-bench ($(cat "$out/card.txt"))"
grep -h '"metagrad_iteration"' "$out/mkdt-metagrad.jsonl" | sed 's/^/mkdt  /'
grep -h '"distill_iteration"' "$out/torch-distill.jsonl" 2>/dev/null | sed 's/^/torch /'
grep -h '"expert_steps"' "$out/torch-expert.jsonl" 2>/dev/null | sed 's/^/torch /'
[ -f "$out/mkdt-student-step.json" ] && "$java" "${jflags[@]}" -cp "$cp" org.mkdt.bench.JmhTable "$out/mkdt-student-step.json" 2>&1 | grep -v '^WARNING'
