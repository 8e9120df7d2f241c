#!/usr/bin/env bash
# Makes sure a system tool the build or the browser test needs is installed.
#   offline/require-tool.sh npm        Node.js + npm (installs the book's browser assets)
#   offline/require-tool.sh chromium   Debian's Chromium at /usr/bin/chromium (browser test)
#   offline/require-tool.sh bwrap      bubblewrap, the sandbox of the sealed autograding
# As root on Debian/Ubuntu it installs the missing package with apt-get; otherwise it stops
# with a message saying exactly what to install. It never skips silently.
set -euo pipefail

tool="${1:?usage: $0 npm|chromium|bwrap}"
case "$tool" in
  npm)
    present() { command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; }
    packages="nodejs npm"
    what="Node.js and npm (the commands 'node' and 'npm')"
    hint="(elsewhere: any Node.js >= 16 with npm; npm installs the book's pinned browser assets)"
    ;;
  chromium)
    present() { [ -x "${BOOK_CHROMIUM:-/usr/bin/chromium}" ]; }
    packages="chromium"
    what="Debian's Chromium browser at /usr/bin/chromium"
    hint="(elsewhere: a Chromium binary, path given in BOOK_CHROMIUM; the test never downloads one)"
    ;;
  bwrap)
    present() { command -v bwrap >/dev/null 2>&1; }
    packages="bubblewrap"
    what="bubblewrap (the command 'bwrap'), the sandbox every submission is graded in"
    hint="(elsewhere: your distribution's bubblewrap package; grading never runs unsealed by default)"
    ;;
  *)
    echo "$0: unknown tool '$tool' (expected npm, chromium or bwrap)" >&2
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
ERROR: missing: $what.
Install it, then run make again. On Debian/Ubuntu:
    sudo apt-get update && sudo apt-get install -y $packages
$hint
MSG
exit 1
