#!/usr/bin/env bash
# System packages bigov needs beyond Python: a Java runtime (MPXJ reads project schedules through
# it), Pango (WeasyPrint draws PDF packs with it) and, for the web tests, Chromium (Playwright
# drives /usr/bin/chromium; no browser is ever downloaded). Installed with apt-get when missing and we
# are root on Debian/Ubuntu; otherwise we say what to install and carry on (the rest works).
set -euo pipefail

missing=()
command -v java >/dev/null 2>&1 || missing+=(default-jre-headless)
if ! { ldconfig -p 2>/dev/null | grep -q 'libpango-1.0.so'; }; then
  missing+=(libpango-1.0-0 libpangoft2-1.0-0)
fi
[ -x /usr/bin/chromium ] || missing+=(chromium)
if ! { fc-list 2>/dev/null | grep -qi 'dejavu\|liberation'; }; then
  missing+=(fonts-dejavu-core)
fi
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "bigov: installing system packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "bigov: please install these system packages: ${missing[*]}" >&2
  echo "       (schedule import needs Java; PDF packs need Pango; the web tests need Chromium)" >&2
fi
