#!/usr/bin/env bash
# Renders an fcprobe report.html to PNG with headless Chromium (Debian: apt-get install -y chromium), to look
# at what a browser shows. Networking is switched off: a self-contained report renders completely anyway.
#   scripts/render-html.sh [report.html] [out.png] [width] [height]
# Without arguments: renders the illustrative sample report (test/report/fixtures.ts, after `npx tsc -p .`)
# to /tmp/fcprobe-sample-report/report.html and report.png.
set -euo pipefail
cd "$(dirname "$0")/.."
html="${1:-}"
png="${2:-}"
width="${3:-1200}"
height="${4:-2000}"
if [[ -z "$html" ]]; then
  out=/tmp/fcprobe-sample-report
  node --input-type=module -e "
    import { sampleResults } from './dist/test/report/fixtures.js';
    import { writeReport } from './dist/src/report/write.js';
    writeReport(sampleResults(), ['md', 'json', 'html'], '$out');
  "
  html="$out/report.html"
  png="${png:-$out/report.png}"
fi
png="${png:-${html%.html}.png}"
browser="$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)"
if [[ -z "$browser" ]]; then
  echo "render-html: no chromium found (Debian: apt-get install -y chromium)" >&2
  exit 1
fi
profile="$(mktemp -d)"
trap 'rm -rf "$profile"' EXIT
"$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking \
  --disable-component-update --disable-sync --hide-scrollbars --user-data-dir="$profile" \
  --window-size="$width,$height" --screenshot="$(realpath -m "$png")" "file://$(realpath "$html")" 2>/dev/null
echo "wrote $png"
