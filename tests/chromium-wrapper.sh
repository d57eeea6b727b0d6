#!/bin/sh
# Headless Chromium for Ace by DAISY (ace-puppeteer): PUPPETEER_EXECUTABLE_PATH points here.
# CHROMIUM overrides the browser binary (default: Debian's /usr/bin/chromium).
exec "${CHROMIUM:-/usr/bin/chromium}" --headless --no-sandbox --disable-gpu --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --disable-dev-shm-usage "$@"
