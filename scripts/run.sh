#!/usr/bin/env bash
# Command 1: install dependencies, build, and start the server on the
# embedded default (journal in ./data, in-process demo back-ends,
# development auth). Extra arguments go to the server, e.g. --bind 127.0.0.1:9090.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
if [ ! -d build-release ]; then
  meson setup build-release --buildtype=release -Doptimization=2 -Dbenchmarks=false >/dev/null
fi
meson compile -C build-release orchestrator orchestrator-replay
exec build-release/orchestrator "$@"
