#include "actors/runtime.hpp"
#include "events/inbox.hpp"
#include "events/json.hpp"
#include "http/router.hpp"
#include "http/routes.hpp"

namespace orch::http {

void add_ops_routes(Router& router, actors::Runtime& runtime) {
  router.add("POST", "/api/v1/ops/outbox/process", [&runtime](Exchange& ex) {
    auto body = ex.json_body();
    if (!body) return;
    json::ObjectReader r(&*body, "");
    auto max_attempts = r.uint64("max_attempts", false);
    if (!r.ok()) return ex.fail(r.error());
    if (max_attempts && (*max_attempts == 0 || *max_attempts > 1000))
      return ex.fail(validation_failed({"max_attempts must be between 1 and 1000"}));
    auto report = runtime.process_outbox(static_cast<std::uint32_t>(max_attempts.value_or(0)));
    if (!report) return ex.fail(report.error());
    json::Writer w;
    w.begin_object().field("processed", true).field("delivered", report->delivered);
    w.field("retried", report->retried).field("dead_lettered", report->dead_lettered).end_object();
    ex.reply_json(200, w.take());
  }, RouteOptions{true, "ops:admin"});

  router.add("GET", "/api/v1/ops/outbox", [&runtime](Exchange& ex) {
    auto stats = runtime.outbox_stats();
    if (!stats) return ex.fail(stats.error());
    json::Writer w;
    w.begin_object().field("pending", stats->pending).field("due", stats->due);
    w.field("in_flight", stats->in_flight).field("dead_letter", stats->dead_letters);
    w.key("oldest_due_at_ms");
    if (stats->oldest_due_at_ms) w.value(stats->oldest_due_at_ms); else w.null();
    w.end_object();
    ex.reply_json(200, w.take());
  }, RouteOptions{true, "ops:admin"});

  router.add("GET", "/api/v1/ops/dead-letter", [&runtime](Exchange& ex) {
    auto entries = runtime.dead_letters();
    if (!entries) return ex.fail(entries.error());
    ex.reply_json(200, outbox::dead_letter_list_json(std::move(*entries)));
  }, RouteOptions{true, "ops:admin"});

  router.add("POST", "/api/v1/ops/dead-letter/replay", [&runtime](Exchange& ex) {
    auto body = ex.json_body();
    if (!body) return;
    json::ObjectReader r(&*body, "");
    auto id = r.string("message_id");
    if (!r.ok()) return ex.fail(r.error());
    auto replayed = runtime.replay_dead_letter(*id);
    if (!replayed) return ex.fail(replayed.error());
    ex.reply_json(200, *replayed ? R"({"replayed":true})" : R"({"replayed":false})");
  }, RouteOptions{true, "ops:admin"});

  router.add("POST", "/api/v1/events/incoming", [&runtime](Exchange& ex) {
    auto body = ex.json_body();
    if (!body) return;
    json::ObjectReader r(&*body, "");
    auto id = r.string("message_id");
    const json::Value* payload = r.any("payload");
    if (!r.ok()) return ex.fail(r.error());
    if (auto problems = inbox::validate(*id); !problems.empty())
      return ex.fail(validation_failed(std::move(problems)));
    auto accepted = runtime.accept_incoming(ex.principal().tenant_id, *id,
                                            payload && !payload->is_null() ? payload->dump() : "");
    if (!accepted) return ex.fail(accepted.error());
    ex.reply_json(200, *accepted ? R"({"accepted":true})" : R"({"accepted":false})");
  }, RouteOptions{true, "events:write"});
}

}  // namespace orch::http
