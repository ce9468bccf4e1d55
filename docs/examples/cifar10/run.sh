#!/usr/bin/env bash
# The CIFAR-10 worked example (docs/examples/cifar10/README.md), from the repository root after `npm ci`:
#
#   bash docs/examples/cifar10/run.sh [--data DIR] [--out DIR] [--slice] [--update]
#
#   --data DIR  CIFAR-10 shards and models (default ../shared/cifar10, env CIFAR10_DATA): train-{000000..000009}.tar,
#               test-{000000..000001}.tar, models/resnet20_cifar10.onnx, models/resnet56_cifar10.onnx
#   --out DIR   everything the example writes (default tmp/cifar10, tmp/cifar10-slice with --slice; env CIFAR10_OUT)
#   --slice     a small slice for the CI test (env CIFAR10_SLICE=1): the first 50 images of every train shard (500)
#               and the first 100 of every test shard (200), the same settings otherwise
#   --update    afterwards, refresh the tracked README table and report.png (full run only)
#
# Stages: (1) CIFAR-10-C corruptions of the test images at severity 3 (scripts/cifar10-example.ts, parameters of
# Hendrycks & Dietterich's make_cifar_c.py) as tar shards; (2) one `fcprobe run`: teacher ResNet-56, students
# ResNet-20 and two heads the run distils on the frozen ResNet-20 to the teacher's 64-d features (linear, ReLU
# MLP), train 50,000, test and each corrupted set 10,000; (3) results.stable.json (results.json less its
# run-specific fields) and the tables. Every stage resumes: finished shards are skipped, `run` reuses its
# features, distillations and probes. Wall time and peak RSS of each stage go to <out>/stages.tsv.
set -euo pipefail

DATA="${CIFAR10_DATA:-../shared/cifar10}"
OUT="${CIFAR10_OUT:-}"
SLICE="${CIFAR10_SLICE:-0}"
UPDATE=0
while [ $# -gt 0 ]; do
  case "$1" in
    --data) DATA="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    --slice) SLICE=1; shift ;;
    --update) UPDATE=1; shift ;;
    *) echo "run.sh: unknown argument $1 (see the comment at the top of $0)" >&2; exit 2 ;;
  esac
done
if [ -z "$OUT" ]; then if [ "$SLICE" = 1 ]; then OUT=tmp/cifar10-slice; else OUT=tmp/cifar10; fi; fi
if [ "$UPDATE" = 1 ] && [ "$SLICE" = 1 ]; then echo "run.sh: --update refreshes the full run's files only" >&2; exit 2; fi
for f in train-000000.tar test-000000.tar models/resnet20_cifar10.onnx models/resnet56_cifar10.onnx; do
  if [ ! -f "$DATA/$f" ]; then
    echo "run.sh: $DATA/$f not found. CIFAR-10 as tar shards and the two ONNX ResNets: see" \
      "docs/examples/cifar10/README.md (Getting the data)" >&2
    exit 3
  fi
done
if [ ! -f dist/src/cli/main.js ] || [ ! -f dist/scripts/cifar10-example.js ]; then
  echo "run.sh: run \`npm ci\` (or \`npm run build\`) first" >&2; exit 3
fi

DATA="$(cd "$DATA" && pwd)"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
HELPER="node dist/scripts/cifar10-example.js"
F="node dist/src/cli/main.js"
CORRUPTIONS=gaussian_noise,gaussian_blur,contrast,jpeg_compression
: > "$OUT/stages.tsv"

# stage NAME COMMAND...: runs it, appends "name  wall seconds  peak RSS (KiB)" to stages.tsv.
stage() {
  local name="$1"; shift
  local t0 t1 rss=""
  t0=$(date +%s.%N)
  if [ -x /usr/bin/time ]; then
    /usr/bin/time -v -o "$OUT/time-$name.txt" "$@"
    rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$OUT/time-$name.txt")
  else
    "$@"
  fi
  t1=$(date +%s.%N)
  printf '%s\t%s\t%s\n' "$name" "$(awk "BEGIN {printf \"%.1f\", $t1 - $t0}")" "${rss:-n/a}" >> "$OUT/stages.tsv"
}

# (1) The evaluation sets. Full: the shards as they are, and the corrupted test shards. Slice: the first K images
# of every shard, copied (`clean`) or corrupted.
if [ "$SLICE" = 1 ]; then
  stage slice $HELPER corrupt --out "$OUT/train" --corruptions clean --per-shard 50 "$DATA"/train-0000{00..09}.tar
  stage corrupt $HELPER corrupt --out "$OUT/c" --corruptions "clean,$CORRUPTIONS" --severity 3 --seed 0 \
    --per-shard 100 "$DATA"/test-00000{0,1}.tar
  TRAIN="$OUT/train/clean/train-{000000..000009}.tar"
  TEST="$OUT/c/clean/test-{000000..000001}.tar"
else
  stage corrupt $HELPER corrupt --out "$OUT/c" --corruptions "$CORRUPTIONS" --severity 3 --seed 0 \
    "$DATA"/test-00000{0,1}.tar
  TRAIN="$DATA/train-{000000..000009}.tar"
  TEST="$DATA/test-{000000..000001}.tar"
fi

# (2) The config: every model with the checkpoints' preprocessing (32 px, no resize or crop, ImageNet mean/std).
PRE='"preset": "torchvision", "resize": 32, "crop": 32, "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225],
    "output": "features"'
DISTILL='"backbone": "'"$DATA"'/models/resnet20_cifar10.onnx", "standardizeTarget": true, "epochs": 30,
      "batch": 256, "lr": 0.001, "weightDecay": 0.0001, "seed": 0'
OOD=""
for c in ${CORRUPTIONS//,/ }; do
  OOD="$OOD${OOD:+,
    }{ \"name\": \"$c\", \"path\": \"$OUT/c/$c/test-{000000..000001}.tar\" }"
done
cat > "$OUT/experiment.json" <<EOF
{
  "title": "CIFAR-10: ResNet-56 (teacher) vs ResNet-20 and heads distilled on it; CIFAR-10-C severity 3 as OOD",
  "workDir": "$OUT/work",
  "teacher": { "name": "resnet56", "path": "$DATA/models/resnet56_cifar10.onnx", $PRE },
  "students": [
    { "name": "resnet20", "path": "$DATA/models/resnet20_cifar10.onnx", $PRE },
    { "name": "resnet20-linear", $PRE,
      "distill": { "head": "linear", $DISTILL } },
    { "name": "resnet20-mlp", $PRE,
      "distill": { "head": "mlp", "hidden": 1024, "layers": 2, "activation": "relu", $DISTILL } }
  ],
  "train": { "name": "train", "path": "$TRAIN" },
  "test": [{ "name": "test", "path": "$TEST" }],
  "ood": [
    $OOD
  ],
  "probe": { "C": 1, "seed": 0 },
  "bootstrap": 2000
}
EOF

# (3) One run: extraction, distillation, probes, statistics, results.json and the report (terminal, md, json, html).
stage run $F run --config "$OUT/experiment.json" -q
$F report "$OUT/work" --format terminal | tee "$OUT/terminal.txt"
$HELPER stable "$OUT/work/results.json" "$OUT/results.stable.json"
$HELPER table "$OUT/work/results.json" | tee "$OUT/table.md"

if [ "$UPDATE" = 1 ]; then
  $HELPER table "$OUT/work/results.json" --readme docs/examples/cifar10/README.md
  # Headless Chromium (Debian: apt-get install -y chromium), then a 64-colour palette to keep the PNG small.
  bash scripts/render-html.sh "$OUT/work/report.html" "$OUT/report-full.png" 1400 3000
  node -e "require('sharp')(process.argv[1]).png({ palette: true, colours: 64 }).toFile(process.argv[2])" \
    "$OUT/report-full.png" docs/examples/cifar10/report.png
fi
echo "stages (name, wall s, peak RSS KiB):"
cat "$OUT/stages.tsv"
