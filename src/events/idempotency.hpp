// Idempotency records: what a key has been used for, and its answer.
//
// A record binds an idempotency key (scoped by tenant, and by merchant for
// checkouts) to the fingerprint of the request that first used it. While the
// operation runs the record is in_progress; once it has a terminal outcome
// the record holds the exact response (status and body) that every retry with
// the same key and fingerprint gets back, byte for byte.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "events/error.hpp"

namespace orch::idempotency {

struct Record {
  bool completed = false;
  std::string fingerprint;
  std::string cart_id;         // checkouts
  std::string transaction_id;  // the checkout or payment it belongs to
  int status = 200;            // completed: the response status
  std::string response;        // completed: the response body (success)
  std::optional<Error> error;  // completed: or the error it ended with
};

std::string encode(const Record& r);
Result<Record> decode(std::string_view row);

// Keys of the idempotency table.
std::string checkout_key(const std::string& tenant, const std::string& merchant,
                         const std::string& key);
std::string payment_key(const std::string& tenant, const std::string& key);

// What a request with `fingerprint` should do, given the record of its key.
enum class Verdict {
  proceed,      // no record: the key is free
  replay,       // completed, same request: answer record.response
  wait,         // in progress, same request: wait for the running one
  reused,       // the key belongs to another request: 409 IDEMPOTENCY_KEY_REUSED
};
Verdict classify(const std::optional<Record>& record, const std::string& fingerprint);

Error key_reused();

}  // namespace orch::idempotency
