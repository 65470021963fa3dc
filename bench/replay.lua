-- wrk script: idempotent replays — the same completed checkout request sent
-- again and again (BENCH_BODY holds it). Every answer is the stored response.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = os.getenv("BENCH_BODY")
