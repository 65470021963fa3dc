// How entities live in the journal: which stream holds an entity, how its
// events are encoded into journal records, and how its state is rebuilt by
// folding the stream (from a snapshot where one exists).
//
// Shared by the actors and the offline replay tool; depends only on
// src/store and src/events (no actors, no CAF).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "events/cart.hpp"
#include "events/checkout.hpp"
#include "events/error.hpp"
#include "events/order.hpp"
#include "events/payment.hpp"
#include "store/journal.hpp"

namespace orch::streams {

inline constexpr const char* cart_kind = "cart";
inline constexpr const char* checkout_kind = "checkout";
inline constexpr const char* payment_kind = "payment";
inline constexpr const char* order_kind = "order";

store::StreamId cart_stream(const std::string& tenant, const std::string& cart_id);
store::StreamId checkout_stream(const std::string& tenant, const std::string& transaction_id);
store::StreamId payment_stream(const std::string& tenant, const std::string& transaction_id);
store::StreamId order_stream(const std::string& tenant, const std::string& order_id);

std::vector<store::EventData> encode_cart_events(const std::vector<cart::EventBody>& events,
                                                 std::int64_t at_ms);
Result<cart::Event> decode_cart_event(const store::StoredEvent& e);

struct LoadedCart {
  cart::Cart cart;
  std::uint64_t stream_version = 0;  // seq of the last event folded
};

// Folds the cart's stream. With `upto`, stops after that sequence number and
// ignores snapshots (the replay tool's --at); otherwise starts from the
// latest snapshot. A STORE_ERROR when a record cannot be read or decoded.
Result<LoadedCart> load_cart(store::Journal& journal, const store::StreamId& stream,
                             std::optional<std::uint64_t> upto = std::nullopt);

// The same for the other kinds (no snapshots: their streams are short).
std::vector<store::EventData> encode_events(const std::vector<checkout::EventBody>& events,
                                            std::int64_t at_ms);
std::vector<store::EventData> encode_events(const std::vector<payment::EventBody>& events,
                                            std::int64_t at_ms);
std::vector<store::EventData> encode_events(const std::vector<order::EventBody>& events,
                                            std::int64_t at_ms);

template <class State>
struct Loaded {
  State state;
  std::uint64_t stream_version = 0;
};
Result<Loaded<checkout::Saga>> load_saga(store::Journal& journal, const store::StreamId& stream,
                                         std::optional<std::uint64_t> upto = std::nullopt);
Result<Loaded<payment::Payment>> load_payment(store::Journal& journal, const store::StreamId& stream,
                                              std::optional<std::uint64_t> upto = std::nullopt);
Result<Loaded<order::Order>> load_order(store::Journal& journal, const store::StreamId& stream,
                                        std::optional<std::uint64_t> upto = std::nullopt);

// Decodes one stored event of any known kind and checks it parses (for the
// replay tool's check). STORE_ERROR naming the stream and seq otherwise.
Status check_event(const store::StoredEvent& e);

// Rows of the index table that say "this entity has unfinished work":
//   saga\0<tenant>\0<cart id>        a checkout saga is running on the cart
//   payment\0<tenant>\0<txn id>      a payment operation is in flight
std::string open_saga_key(const std::string& tenant, const std::string& cart_id);
std::string pending_payment_key(const std::string& tenant, const std::string& transaction_id);

// A snapshots-table row holding `cart` as of `stream_version`.
store::TablePut cart_snapshot(const store::StreamId& stream, const cart::Cart& cart,
                              std::uint64_t stream_version);

// Key of an entity: routing in the front actor and its snapshots-table row.
std::string entity_key(const store::StreamId& stream);

}  // namespace orch::streams
