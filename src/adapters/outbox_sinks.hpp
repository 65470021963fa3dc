// Where outbox messages are delivered.
//
//   WebhookSink  POST OUTBOX_WEBHOOK_URL with the message's JSON document as the
//                body and the headers X-Event-Id, X-Event-Type, Idempotency-Key
//                (the event id) and X-Signature: sha256=<hex HMAC-SHA256 of the
//                body with OUTBOX_WEBHOOK_SECRET>. Any 2xx is a delivery.
//   FileSink     the embedded default: appends one JSON line per delivery to
//                <data dir>/deliveries.jsonl and syncs it before reporting success.
//
// Delivery is at least once: a receiver de-duplicates on the event id.
// deliver() blocks; callers run it off the actor scheduler.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>

#include "events/error.hpp"
#include "events/outbox.hpp"

namespace orch::adapters {

class OutboxSink {
 public:
  virtual ~OutboxSink() = default;
  // Ok, or an Error whose message becomes the row's last_error.
  virtual Status deliver(const outbox::Message& m) = 0;
  virtual std::string describe() const = 0;  // for logs (never the secret)
};

struct WebhookSettings {
  std::string url;
  std::string secret;  // may be empty: then no X-Signature
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds timeout{10000};
};

// Checks the URL (http:// or https://); the error names OUTBOX_WEBHOOK_URL.
Result<std::shared_ptr<OutboxSink>> make_webhook_sink(const WebhookSettings& s);
Result<std::shared_ptr<OutboxSink>> make_file_sink(const std::string& path);

// "sha256=<hex>" of HMAC-SHA256(secret, body).
std::string webhook_signature(const std::string& secret, std::string_view body);

}  // namespace orch::adapters
