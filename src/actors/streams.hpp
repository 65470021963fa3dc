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
#include "events/error.hpp"
#include "store/journal.hpp"

namespace orch::streams {

inline constexpr const char* cart_kind = "cart";

store::StreamId cart_stream(const std::string& tenant, const std::string& cart_id);

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

// A snapshots-table row holding `cart` as of `stream_version`.
store::TablePut cart_snapshot(const store::StreamId& stream, const cart::Cart& cart,
                              std::uint64_t stream_version);

// Key of an entity: routing in the front actor and its snapshots-table row.
std::string entity_key(const store::StreamId& stream);

}  // namespace orch::streams
