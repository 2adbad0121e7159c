#!/usr/bin/env bash
# The GPU machine's one script (no Maven, no network, maybe no JVM there). Build the bundle
# here first (scripts/gpu-bundle.sh), carry .gpu, then run this from the repository root:
#   1. ./mkdt info                         what loads (JCuda, libcuda, device, cuBLAS, cuDNN)
#   2. the cuda-tagged tests               every kernel and the student's gradients vs the CPU
#   3. check gradients --device cuda       every op, first and second order, vs CPU float64
#   4. compute-sanitizer memcheck          on the device check, MKDT_CUDA_SYNC=1
#   5. JMH kernel benchmarks               GFLOP/s and GB/s
#   6. torch (optional)                    scripts/reference/torch_reference.py, beside
# and prints a short table last. Logs go to $OUT (or ./gpu-check-out).
# Environment: GPU_CHECK_STAGES="info tests check sanitizer bench" picks stages;
# GPU_CHECK_JMH="-wi 2 -w 500ms -i 3 -r 500ms" sets the JMH run.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
out="${OUT:-gpu-check-out}"
mkdir -p "$out"
stages="${GPU_CHECK_STAGES:-info tests check sanitizer torch bench}"
jmh_opts="${GPU_CHECK_JMH:--wi 2 -w 500ms -i 3 -r 500ms -f 1}"

java=java
if ! java -version >/dev/null 2>&1 || ! java -version 2>&1 | grep -Eq 'version "(1[7-9]|[2-9][0-9])'; then java=.gpu/runtime/bin/java; fi
jflags=(--add-modules=jdk.incubator.vector -XX:MaxRAMPercentage=50)
cp=".gpu/app/mkdt.jar:.gpu/app/lib/*"
mkdt=("$java" "${jflags[@]}" -cp "$cp" org.mkdt.cli.Main)
declare -A result
run() { # name, timeout seconds, command...
  local name=$1 limit=$2; shift 2
  local t0=$SECONDS
  echo "=== $name" | tee -a "$out/gpu-check.log"
  timeout "$limit" "$@" 2>&1 | grep -v '^WARNING: Using incubator' | tee "$out/$name.log"
  local rc=${PIPESTATUS[0]}
  result[$name]="rc=$rc $((SECONDS - t0))s"
  echo "=== $name: rc=$rc in $((SECONDS - t0)) s" | tee -a "$out/gpu-check.log"
}

nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm --format=csv | tee "$out/nvidia-smi.log"
"$java" -version 2>&1 | head -1 | tee -a "$out/gpu-check.log"

for s in $stages; do case $s in
  info) run info 30 "${mkdt[@]}" info ;;
  tests) run tests 300 env MKDT_CUDA_REQUIRED=1 MKDT_CUDA_POISON=1 "$java" "${jflags[@]}" -jar .gpu/junit-console.jar execute \
           --class-path ".gpu/test-classes:$cp" --select-package org.mkdt.backend.cuda --select-class org.mkdt.check.DeviceCheckTest \
           --include-tag cuda --details=tree --disable-banner --reports-dir "$out/junit" ;;
  check) run check 90 "${mkdt[@]}" check gradients --device cuda ;;
  sanitizer) run sanitizer 240 env MKDT_CUDA_SYNC=1 compute-sanitizer --tool memcheck --leak-check no --error-exitcode 3 \
           "$java" "${jflags[@]}" -cp "$cp" org.mkdt.cli.Main check gradients --device cuda ;;
  torch) if [ -f scripts/reference/torch_reference.py ]; then   # the PyTorch reference loop, same card, same run
           run torch 150 bash -c "python3 scripts/reference/torch_reference.py expert --batch 256 --steps 50 && python3 scripts/reference/torch_reference.py distill --syn-steps 40 --batch-syn 256 --images 1000 --warmup 1 --reps 2"
         fi ;;
  bench) run bench 200 "$java" "${jflags[@]}" -cp "$cp" org.openjdk.jmh.Main 'Cuda' $jmh_opts -rf json -rff "$out/jmh.json" ;;
esac; done

echo
echo "== gpu-check summary ($(nvidia-smi --query-gpu=name --format=csv,noheader | head -1))"
for s in $stages; do printf '%-10s %s\n' "$s" "${result[$s]:-not run}"; done
[ -f "$out/tests.log" ] && grep -E "tests (successful|failed|skipped|aborted)" "$out/tests.log"
[ -f "$out/check.log" ] && tail -1 "$out/check.log"
[ -f "$out/sanitizer.log" ] && grep -E "ERROR SUMMARY" "$out/sanitizer.log" | tail -1
[ -f "$out/torch.log" ] && grep '^{' "$out/torch.log"
if [ -f "$out/jmh.json" ]; then
  "$java" "${jflags[@]}" -cp "$cp" org.mkdt.bench.JmhTable "$out/jmh.json"
fi
