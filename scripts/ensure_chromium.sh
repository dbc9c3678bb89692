#!/usr/bin/env bash
# Make Debian's Chromium available for the browser tests (Playwright drives it; browsers cannot
# be downloaded here). Installs the `chromium` package with apt-get when it is missing and we are
# root, like scripts/pg_test_server.sh does for PostgreSQL. Without it, says why and exits 0:
# the browser tests then skip outside CI, and fail when CI is set.
set -euo pipefail

say() { echo "ensure_chromium: $*" >&2; }

if command -v chromium >/dev/null || command -v chromium-browser >/dev/null \
    || [[ -n "${CHROMIUM_PATH:-}" ]]; then
    exit 0
fi
if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null; then
    say "Chromium is not installed and cannot be installed here (needs root and apt-get)"
    exit 0
fi
say "installing chromium with apt-get"
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -q chromium >/dev/null 2>&1 \
    || { apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; } \
    || say "apt-get could not install chromium"
exit 0
