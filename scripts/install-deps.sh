#!/usr/bin/env bash
# Installs everything needed to build, run and test the orchestrator from
# Debian 12 packages. Run as root (or with sudo). Safe to run again.
set -euo pipefail

packages=(
  g++ meson ninja-build pkg-config cmake python3
  libcaf-dev libcpp-httplib-dev libsimdjson-dev liblmdb-dev libspdlog-dev libfmt-dev
  doctest-dev libssl-dev
  curl lmdb-utils wrk
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
