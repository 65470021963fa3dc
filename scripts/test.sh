#!/usr/bin/env bash
# Command 2: install dependencies, build, and run every test (unit, store,
# replay, black-box against the real server binary). Ends with the line
# "N passed, M failed". Set SANITIZE=1 to build and test with AddressSanitizer
# and UndefinedBehaviorSanitizer instead.
set -uo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh || exit 1

builddir=build-test
opts=(--buildtype=debugoptimized -Dbenchmarks=false)
if [ "${SANITIZE:-0}" = "1" ]; then
  builddir=build-test-asan
  opts+=(-Db_sanitize=address,undefined -Db_lundef=false)
fi
if [ ! -d "$builddir" ]; then
  meson setup "$builddir" "${opts[@]}" || exit 1
fi
meson compile -C "$builddir" || exit 1

meson test -C "$builddir" --print-errorlogs --num-processes 2 "$@"
rc=$?
python3 - "$builddir/meson-logs/testlog.json" <<'PY'
import json, sys
results = [json.loads(line)["result"] for line in open(sys.argv[1]) if line.strip()]
passed = sum(r in ("OK", "EXPECTEDFAIL") for r in results)
failed = sum(r in ("FAIL", "ERROR", "TIMEOUT", "UNEXPECTEDPASS") for r in results)
print(f"{passed} passed, {failed} failed")
PY
exit $rc
