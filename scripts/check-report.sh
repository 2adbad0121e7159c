#!/usr/bin/env bash
# Renders a report.html in headless Chromium (Debian: apt-get install chromium) and checks what
# a reader would see: a screenshot is written, and the page logged nothing to the console (the
# report has no scripts, so any console message, such as a broken image, is a fault).
# Usage: scripts/check-report.sh REPORT.html [SCREENSHOT.png]   (default: next to the report)
# Exit 0 when both hold, 1 when not, 2 when Chromium or the report is missing.
set -euo pipefail
report="${1:?usage: scripts/check-report.sh REPORT.html [SCREENSHOT.png]}"
[ -f "$report" ] || { echo "check-report: $report: no such file" >&2; exit 2; }
shot="${2:-${report%.html}.png}"
browser="$(command -v chromium || command -v chromium-browser || true)"
[ -n "$browser" ] || { echo "check-report: no chromium on the PATH (apt-get install chromium)" >&2; exit 2; }
profile="$(mktemp -d)"
trap 'rm -rf "$profile"' EXIT
rm -f "$shot"
# The flags keep a root, offline machine's Chromium from sandbox errors and network attempts.
log="$(timeout 120 "$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync --user-data-dir="$profile" \
  --enable-logging=stderr --v=0 --hide-scrollbars --window-size=1000,4000 --screenshot="$shot" \
  "file://$(realpath "$report")" 2>&1 || true)"
console="$(grep -F ':CONSOLE' <<< "$log" || true)"
if [ ! -s "$shot" ]; then
  echo "check-report: $report: Chromium wrote no screenshot" >&2
  echo "$log" | tail -5 >&2
  exit 1
fi
if [ -n "$console" ]; then
  echo "check-report: $report: the page logged to the console:" >&2
  echo "$console" >&2
  exit 1
fi
echo "check-report: $report rendered, no console messages; screenshot $shot ($(stat -c %s "$shot") bytes)"
