#!/usr/bin/env bash
# Makes sure a system tool the build or the browser test needs is installed.
#   offline/require-tool.sh npm        Node.js + npm (installs the book's browser assets)
#   offline/require-tool.sh chromium   Debian's Chromium at /usr/bin/chromium (browser test)
# As root on Debian/Ubuntu it installs the missing package with apt-get; otherwise it stops
# with a message saying exactly what to install. It never skips silently.
set -euo pipefail

tool="${1:?usage: $0 npm|chromium}"
case "$tool" in
  npm)
    present() { command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; }
    packages="nodejs npm"
    what="Node.js and npm (the commands 'node' and 'npm')"
    ;;
  chromium)
    present() { [ -x /usr/bin/chromium ]; }
    packages="chromium"
    what="Debian's Chromium browser at /usr/bin/chromium"
    ;;
  *)
    echo "$0: unknown tool '$tool' (expected npm or chromium)" >&2
    exit 2
    ;;
esac

present && exit 0

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "== $what is missing: installing Debian packages: $packages"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update
  # shellcheck disable=SC2086
  apt-get install -y $packages
  present && exit 0
  echo "ERROR: apt-get install $packages did not provide $what." >&2
  exit 1
fi

cat >&2 <<MSG
ERROR: $what is required and missing.
Install it, then run make again:
    sudo apt-get update && sudo apt-get install -y $packages
(on another system, install the equivalent packages; the browser test needs the binary
at /usr/bin/chromium and never downloads a browser of its own).
MSG
exit 1
