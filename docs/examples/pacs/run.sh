#!/usr/bin/env bash
# The PACS-mini example of docs/examples/pacs/README.md, from the repository root (needs ../shared/realdata):
#   bash docs/examples/pacs/run.sh            # outputs under tmp/pacs-work/ and tmp/examples/pacs/ (ignored by git)
#   bash docs/examples/pacs/run.sh --update   # and copied over the committed ones in docs/examples/pacs/
# Running the example never rewrites tracked files unless --update says so.
set -euo pipefail
O=tmp/examples/pacs
mkdir -p "$O"
bash docs/examples/pacs/make-split.sh ../shared/realdata/pacs-mini/photo
node dist/src/cli/main.js run --config docs/examples/pacs/experiment.json --format md,json,html,csv -q >/dev/null
node dist/src/cli/main.js report tmp/pacs-work --format terminal | tee "$O/terminal.txt"
cp tmp/pacs-work/report.md tmp/pacs-work/report.json tmp/pacs-work/report.html tmp/pacs-work/results.csv "$O/"
if [ "${1:-}" = --update ]; then
  cp "$O"/* docs/examples/pacs/
  echo "updated docs/examples/pacs/ from $O"
fi
