#!/usr/bin/env bash
# The distillation experiment of docs/examples/distill/README.md, from the repository root:
#   bash docs/examples/distill/run.sh            # outputs under tmp/examples/distill/ (ignored by git)
#   bash docs/examples/distill/run.sh --update   # and copied over the committed ones in docs/examples/distill/
# Running the example never rewrites tracked files unless --update says so.
# MobileNetV1-0.25 (backbone, 256-d) + head distilled to MobileNetV2 1.0 (teacher, 1280-d) on PACS photo train
# (42 images), fit reported on photo test and on art/cartoon/sketch; then `fcprobe run` per student.
set -euo pipefail
R=../shared/realdata
T=$R/models/mobilenet_v2_1.0_224_int8.onnx
B=$R/models/mobilenet_v1_0.25_128_int8.onnx
W=tmp/distill-work
O=tmp/examples/distill
F="node dist/src/cli/main.js"
mkdir -p "$O"
bash docs/examples/pacs/make-split.sh "$R/pacs-mini/photo"
declare -A SETS=([train]=tmp/pacs/train [test]=tmp/pacs/test [art]=$R/pacs-mini/art_painting
  [cartoon]=$R/pacs-mini/cartoon [sketch]=$R/pacs-mini/sketch)
for s in train test art cartoon sketch; do
  $F extract --model "$T" --preset inception --output features --data "${SETS[$s]}" --out "$W/t-$s" -q
  $F extract --model "$B" --preset inception --output features --data "${SETS[$s]}" --out "$W/b-$s" -q
done
EVAL=(--eval "$W/t-test:$W/b-test" "$W/t-art:$W/b-art" "$W/t-cartoon:$W/b-cartoon" "$W/t-sketch:$W/b-sketch")
COMMON=(--teacher-features "$W/t-train" --student-features "$W/b-train" --backbone "$B" --standardize-target
  --epochs 300 --batch 42 --lr 1e-3 --weight-decay 1e-4 --seed 0 "${EVAL[@]}")
$F distill "${COMMON[@]}" --head linear --out "$W/linear" | tee "$O/linear.txt"
$F distill "${COMMON[@]}" --head mlp --hidden 2048 --activation relu --out "$W/mlp" | tee "$O/mlp.txt"
cp "$W/linear/distill.json" "$O/linear.distill.json"
cp "$W/mlp/distill.json" "$O/mlp.distill.json"
for h in linear mlp; do
  $F run -c docs/examples/distill/run-$h.json --format terminal,md,json -q > "$O/run-$h.txt"
done
if [ "${1:-}" = --update ]; then
  cp "$O"/*.txt "$O"/*.distill.json docs/examples/distill/
  echo "updated docs/examples/distill/ from $O"
fi
