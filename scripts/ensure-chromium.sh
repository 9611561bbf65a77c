#!/usr/bin/env bash
# The browser tests drive Debian's Chromium (/usr/bin/chromium); nothing downloads a browser of its own.
# Installs it when missing and this user can (root with apt-get); otherwise says exactly what to run.
set -euo pipefail
usage="usage: bash scripts/ensure-chromium.sh
Makes sure Debian's Chromium (/usr/bin/chromium) is installed for the browser tests: installs it with
apt-get when missing and running as root, otherwise prints the command to run. Takes no options."
if [ "$#" -gt 0 ]; then
  case "$1" in
    -h | --help) echo "$usage"; exit 0 ;;
    *) echo "ensure-chromium: unknown argument \"$1\"" >&2; echo "$usage" >&2; exit 2 ;;
  esac
fi
[ -x /usr/bin/chromium ] && exit 0
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
  echo "Installing Debian's chromium for the browser tests..."
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  exit 0
fi
echo "The browser tests need Debian's Chromium: sudo apt-get install chromium" >&2
exit 1
