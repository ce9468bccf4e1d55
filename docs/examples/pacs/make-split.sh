#!/usr/bin/env bash
# Splits the PACS photo domain of ../shared/realdata into ID train (first 6 images per class) and ID test
# (the other 4), as symlinks under tmp/pacs/. Run from the repository root.
set -euo pipefail
src="${1:-../shared/realdata/pacs-mini/photo}"
rm -rf tmp/pacs/train tmp/pacs/test
for cls in $(ls "$src"); do
  mkdir -p "tmp/pacs/train/$cls" "tmp/pacs/test/$cls"
  i=0
  for f in $(ls "$src/$cls"); do
    if [ $i -lt 6 ]; then dest=train; else dest=test; fi
    ln -s "$(cd "$src/$cls" && pwd)/$f" "tmp/pacs/$dest/$cls/$f"
    i=$((i + 1))
  done
done
echo "tmp/pacs/train: $(find -L tmp/pacs/train -type f | wc -l) images, tmp/pacs/test: $(find -L tmp/pacs/test -type f | wc -l) images"
