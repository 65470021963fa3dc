#!/usr/bin/env bash
# Benchmarks (not tests): builds a release build, starts the server on a
# temporary data dir on 127.0.0.1, and measures in one session
#   - GET /health/live with wrk (the HTTP ceiling of this machine),
#   - durable add_item at 1, 16 and 64 connections (wrk + bench/add_item.lua),
#   - journal appends/s with and without group commit (journal_bench).
# Usage: bench/run.sh [SECONDS per run, default 10]
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-10}
PORT=${BENCH_PORT:-18080}
scripts/install-deps.sh
[ -d build-bench ] || meson setup build-bench --buildtype=release -Doptimization=2 >/dev/null
meson compile -C build-bench orchestrator bench_setup journal_bench | tail -1

WORK=$(mktemp -d /tmp/orch-bench-XXXXXX)
HTTP_THREADS=128 build-bench/orchestrator --bind 127.0.0.1:$PORT --data-dir "$WORK/data" \
  >"$WORK/server.out" 2>"$WORK/server.err" &
SRV=$!
trap 'kill $SRV 2>/dev/null; wait $SRV 2>/dev/null; rm -rf "$WORK"' EXIT
for _ in $(seq 100); do curl -sf http://127.0.0.1:$PORT/health/ready >/dev/null && break; sleep 0.1; done

to_ms() { awk '{v=$1; if (v ~ /us$/) {sub(/us$/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms$/,"",v)} else if (v ~ /s$/) {sub(/s$/,"",v); v*=1000}; printf "%.2f", v}'; }
report() {  # NAME CONNS WRK_OUTPUT
  local rps p50 p99 errs
  rps=$(awk '/Requests\/sec/{printf "%.0f", $2}' <<<"$3")
  p50=$(awk '/ 50%/{print $2}' <<<"$3" | to_ms)
  p99=$(awk '/ 99%/{print $2}' <<<"$3" | to_ms)
  errs=$(grep -E 'Socket errors|Non-2xx' <<<"$3" | tr -s ' \n' ' ' || true)
  printf "%-22s conns=%-3s req/s=%-8s p50=%-7sms p99=%-7sms %s\n" "$1" "$2" "$rps" "$p50" "$p99" "$errs"
}

echo "== $(date -u +%FT%TZ) $(nproc) cores, $SECS s per run"
out=$(wrk -t2 -c64 -d${SECS}s --timeout 5s --latency http://127.0.0.1:$PORT/health/live)
report "GET /health/live" 64 "$out"

build-bench/bench/bench_setup http://127.0.0.1:$PORT 4096 "$WORK/carts.txt" >/dev/null
for c in 1 16 64; do
  t=2; [ "$c" = 1 ] && t=1
  out=$(BENCH_CARTS="$WORK/carts.txt" BENCH_THREADS=$t wrk -t$t -c$c -d${SECS}s --timeout 5s --latency \
        -s bench/add_item.lua http://127.0.0.1:$PORT)
  report "add_item (durable)" "$c" "$out"
done
curl -s http://127.0.0.1:$PORT/metrics | grep -E '^journal_(commits|write_sets|events)_total'

# Checkouts on pre-built ready carts (one rose each; a fresh key per checkout),
# then idempotent replays of one completed checkout.
NREADY=$(( SECS * 8000 ))
build-bench/bench/bench_setup http://127.0.0.1:$PORT $NREADY "$WORK/ready16.txt" ready >/dev/null
build-bench/bench/bench_setup http://127.0.0.1:$PORT $NREADY "$WORK/ready64.txt" ready >/dev/null
for c in 16 64; do
  out=$(BENCH_CARTS="$WORK/ready$c.txt" BENCH_THREADS=2 wrk -t2 -c$c -d${SECS}s --timeout 5s --latency \
        -s bench/checkout.lua http://127.0.0.1:$PORT)
  report "checkout (durable)" "$c" "$out"
done
read -r id version total < "$WORK/ready16.txt"
body='{"tenant_id":"dev","merchant_id":"flower_shop","cart_id":"'$id'","cart_version":'$version',"currency":"USD","location":{"country_code":"US"},"payment_intent":{"amount_minor":'$total',"token_or_reference":"success_token"},"idempotency_key":"bench-'$id'"}'
for c in 16 64; do
  out=$(BENCH_BODY="$body" wrk -t2 -c$c -d${SECS}s --timeout 5s --latency -s bench/replay.lua \
        http://127.0.0.1:$PORT/api/v1/checkout/execute)
  report "checkout replay" "$c" "$out"
done

kill $SRV; wait $SRV 2>/dev/null || true
build-bench/bench/journal_bench "$WORK/jbench" 5 64
