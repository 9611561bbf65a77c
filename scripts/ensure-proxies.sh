#!/usr/bin/env bash
# The doctor's end-to-end tests put Debian's nginx, Caddy and HAProxy in front of the gateway; nothing
# downloads a server of its own. Installs the missing ones when this user can (root with apt-get);
# otherwise says exactly what to run. The tests skip a server that is still missing, saying so.
set -euo pipefail
usage="usage: bash scripts/ensure-proxies.sh
Makes sure Debian's nginx, caddy and haproxy are installed for the doctor's end-to-end tests: installs
the missing ones with apt-get when running as root (without starting their system services), otherwise
prints the command to run. Takes no options."
if [ "$#" -gt 0 ]; then
  case "$1" in
    -h | --help) echo "$usage"; exit 0 ;;
    *) echo "ensure-proxies: unknown argument \"$1\"" >&2; echo "$usage" >&2; exit 2 ;;
  esac
fi
missing=()
for bin in nginx caddy haproxy; do
  [ -x "/usr/sbin/$bin" ] || [ -x "/usr/bin/$bin" ] || missing+=("$bin")
done
[ "${#missing[@]}" -eq 0 ] && exit 0
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
  echo "Installing Debian's ${missing[*]} for the doctor's end-to-end tests..."
  # The packages start their services on install (nginx on port 80 of every interface); the tests start
  # their own on loopback only, so keep the system ones down. Docker images already ship this policy.
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  exit 0
fi
echo "The doctor's end-to-end tests need Debian's ${missing[*]}: sudo apt-get install ${missing[*]}" >&2
exit 1
