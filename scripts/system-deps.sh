#!/usr/bin/env bash
# Installs the Debian packages publisher and its tests need, when they are missing.
#   WeasyPrint: libpango-1.0-0 libpangoft2-1.0-0 (text layout), fontconfig
#   fonts:      fonts-noto-core (Thai, Devanagari and most scripts), fonts-noto-cjk, fonts-noto-color-emoji:
#               the sheet draws every script people write notes in (`publisher check` names what is missing)
#   tests:      poppler-utils (pdftotext, pdffonts, pdfinfo, pdftoppm), default-jre-headless (EPUBCheck),
#               chromium + nodejs/npm (Ace by DAISY, run through ace-puppeteer)
#   `system-deps.sh runtime` (what `make all` runs): only what building needs, and no failure when it
#   cannot install (not root): `publisher check` then names the fonts that are missing.
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-all}"

need=()
have_lib() { ldconfig -p 2>/dev/null | grep "$1" >/dev/null; }  # no -q: an early exit + pipefail is a false "missing"
have_lib libpango-1.0.so || need+=(libpango-1.0-0)
have_lib libpangoft2-1.0.so || need+=(libpangoft2-1.0-0)
command -v fc-list >/dev/null || need+=(fontconfig)
if [ "$mode" != runtime ]; then
  command -v pdftotext >/dev/null || need+=(poppler-utils)
  command -v java >/dev/null || need+=(default-jre-headless)
  command -v chromium >/dev/null || need+=(chromium)
  command -v npm >/dev/null || need+=(npm)
fi
have_font() { fc-list 2>/dev/null | grep -i "$1" >/dev/null; }
have_font "NotoSansThai" || need+=(fonts-noto-core)
have_font "Noto Sans CJK" || need+=(fonts-noto-cjk)
have_font "Noto Color Emoji" || need+=(fonts-noto-color-emoji)

if ((${#need[@]})); then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "system-deps: installing ${need[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  else
    echo "system-deps: missing Debian packages: ${need[*]}" >&2
    echo "system-deps: run as root: apt-get update && apt-get install -y ${need[*]}" >&2
    [ "$mode" = runtime ] && exit 0
    exit 1
  fi
fi

[ "$mode" = runtime ] && { echo "system-deps: ok"; exit 0; }

# Ace by DAISY for the EPUB accessibility test (npm, no browser download).
if [ -f tools/ace/package.json ] && [ ! -x tools/ace/node_modules/.bin/ace-puppeteer ]; then
  echo "system-deps: installing Ace by DAISY (npm)"
  (cd tools/ace && ELECTRON_SKIP_BINARY_DOWNLOAD=1 PUPPETEER_SKIP_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
fi
echo "system-deps: ok"
