#!/usr/bin/env bash
# The GPU figures of issue 17, in one run on a machine with a GPU (see docs/gpu.md, "Measuring a GPU machine").
# Writes everything under ${OUT:-bench/results/gpu}: machine.txt (the machine named), gemm-<ep>.json (the
# probe's GEMM per provider, transfers included), bench.json + bench.txt (ResNet-50-shaped ceiling and end-to-end
# extraction on every installed provider, `npm run bench -- --quick --only gemm,ceiling,e2e`), sgd-step.txt
# (the paper-recipe step on this machine's CPU cores). Budget: ~6-8 minutes; each part has its own timeout so
# one hung provider does not cost the rest. Then copy the figures into bench/RESULTS.md with the machine named.
set -u
OUT="${OUT:-bench/results/gpu}"
mkdir -p "$OUT"
cd "$(dirname "$0")/.."
{
  date -u +%FT%TZ
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>&1 || echo "no nvidia-smi"
  lscpu | grep -E 'Model name|^CPU\(s\)' || true
  free -g | head -2
  node -v
  node -e "console.log('onnxruntime-node', require('onnxruntime-node/package.json').version)" 2>&1
  ls node_modules/onnxruntime-node/bin/napi-v*/linux/x64/ 2>&1 | tr '\n' ' '; echo
  command -v vulkaninfo >/dev/null && vulkaninfo --summary 2>&1 | grep -E 'deviceName|driverName' || echo "no vulkaninfo"
} > "$OUT/machine.txt" 2>&1
cat "$OUT/machine.txt"
[ -d dist ] || npm run build >/dev/null
for ep in cpu cuda webgpu; do
  timeout 120 node dist/bench/gpu-gemm.js --ep "$ep" > "$OUT/gemm-$ep.json" 2>&1
  echo "gemm $ep: $(tail -c 400 "$OUT/gemm-$ep.json")"
done
timeout 300 node dist/bench/run.js --quick --only gemm,ceiling,e2e --out "$OUT/bench.json" > "$OUT/bench.txt" 2>&1
echo "bench rc=$?"; tail -25 "$OUT/bench.txt"
timeout 90 node dist/bench/sgd-step.js --threads "$(nproc)" --rounds 3 --steps 10 > "$OUT/sgd-step.txt" 2>&1
echo "sgd-step rc=$?"; cat "$OUT/sgd-step.txt"
