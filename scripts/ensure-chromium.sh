#!/usr/bin/env bash
# Makes sure Debian's chromium is installed at /usr/bin/chromium: the browser tests of the API reference page
# (tests/PythOn.Server.Tests/OpenApi/ApiDocsBrowserTests.cs) drive it through Microsoft.Playwright, which never
# downloads a browser of its own. Idempotent: does nothing when chromium is already there.
set -euo pipefail

log() { printf 'ensure-chromium: %s\n' "$*" >&2; }

if [ -x /usr/bin/chromium ]; then
  log "$(/usr/bin/chromium --version 2>/dev/null || echo chromium) is installed"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  log "need root to install: chromium"; exit 1
fi
log "installing: chromium"
DEBIAN_FRONTEND=noninteractive apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
log "$(/usr/bin/chromium --version) is installed"
