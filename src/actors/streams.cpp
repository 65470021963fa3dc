#include "actors/streams.hpp"

#include <charconv>

#include "events/codec.hpp"

namespace orch::streams {

store::StreamId cart_stream(const std::string& tenant, const std::string& cart_id) {
  return store::StreamId{tenant, cart_kind, cart_id};
}
store::StreamId checkout_stream(const std::string& tenant, const std::string& transaction_id) {
  return store::StreamId{tenant, checkout_kind, transaction_id};
}
store::StreamId payment_stream(const std::string& tenant, const std::string& transaction_id) {
  return store::StreamId{tenant, payment_kind, transaction_id};
}
store::StreamId order_stream(const std::string& tenant, const std::string& order_id) {
  return store::StreamId{tenant, order_kind, order_id};
}

namespace {

template <class Body>
std::vector<store::EventData> encode_all(const std::vector<Body>& events, std::int64_t at_ms) {
  std::vector<store::EventData> out;
  out.reserve(events.size());
  for (const auto& e : events) {
    auto enc = codec::encode(e);
    out.push_back(store::EventData{std::move(enc.type), enc.schema, at_ms, std::move(enc.payload)});
  }
  return out;
}

// Folds a stream with `decode` (type, schema, payload -> body) and `apply`.
template <class State, class Event, class Decode>
Result<Loaded<State>> load_stream(store::Journal& journal, const store::StreamId& stream,
                                  std::optional<std::uint64_t> upto, Decode&& decode) {
  Loaded<State> out;
  auto events = journal.read_stream(stream, 1, upto ? *upto : SIZE_MAX);
  if (!events) return Error(Code::store_error, events.error.message);
  for (const auto& stored : *events) {
    auto body = decode(stored.data.type, stored.data.schema, stored.data.payload);
    if (!body)
      return Error(Code::store_error, store::to_string(stream) + " event " + std::to_string(stored.seq) +
                                          ": " + body.error().message);
    apply(out.state, Event{stored.data.recorded_at_ms, std::move(*body)});
    out.stream_version = stored.seq;
  }
  return out;
}

std::string index_key(std::string_view prefix, const std::string& tenant, const std::string& id) {
  std::string k(prefix);
  k.push_back('\0');
  k += tenant;
  k.push_back('\0');
  k += id;
  return k;
}

}  // namespace

std::vector<store::EventData> encode_cart_events(const std::vector<cart::EventBody>& events,
                                                 std::int64_t at_ms) {
  return encode_all(events, at_ms);
}
std::vector<store::EventData> encode_events(const std::vector<checkout::EventBody>& events,
                                            std::int64_t at_ms) {
  return encode_all(events, at_ms);
}
std::vector<store::EventData> encode_events(const std::vector<payment::EventBody>& events,
                                            std::int64_t at_ms) {
  return encode_all(events, at_ms);
}
std::vector<store::EventData> encode_events(const std::vector<order::EventBody>& events,
                                            std::int64_t at_ms) {
  return encode_all(events, at_ms);
}

Result<Loaded<checkout::Saga>> load_saga(store::Journal& journal, const store::StreamId& stream,
                                         std::optional<std::uint64_t> upto) {
  return load_stream<checkout::Saga, checkout::Event>(journal, stream, upto,
                                                      codec::decode_checkout_event);
}
Result<Loaded<payment::Payment>> load_payment(store::Journal& journal, const store::StreamId& stream,
                                              std::optional<std::uint64_t> upto) {
  return load_stream<payment::Payment, payment::Event>(journal, stream, upto,
                                                       codec::decode_payment_event);
}
Result<Loaded<order::Order>> load_order(store::Journal& journal, const store::StreamId& stream,
                                        std::optional<std::uint64_t> upto) {
  return load_stream<order::Order, order::Event>(journal, stream, upto, codec::decode_order_event);
}

Status check_event(const store::StoredEvent& e) {
  const auto& d = e.data;
  auto wrap = [&](const Error& err) {
    return Error(Code::store_error,
                 store::to_string(e.stream) + " event " + std::to_string(e.seq) + ": " + err.message);
  };
  if (e.stream.kind == cart_kind) {
    if (auto r = codec::decode_cart_event(d.type, d.schema, d.payload); !r) return wrap(r.error());
  } else if (e.stream.kind == checkout_kind) {
    if (auto r = codec::decode_checkout_event(d.type, d.schema, d.payload); !r) return wrap(r.error());
  } else if (e.stream.kind == payment_kind) {
    if (auto r = codec::decode_payment_event(d.type, d.schema, d.payload); !r) return wrap(r.error());
  } else if (e.stream.kind == order_kind) {
    if (auto r = codec::decode_order_event(d.type, d.schema, d.payload); !r) return wrap(r.error());
  } else {
    return wrap(Error(Code::store_error, "unknown stream kind '" + e.stream.kind + "'"));
  }
  return ok();
}

std::string open_saga_key(const std::string& tenant, const std::string& cart_id) {
  return index_key("saga", tenant, cart_id);
}
std::string pending_payment_key(const std::string& tenant, const std::string& transaction_id) {
  return index_key("payment", tenant, transaction_id);
}

Result<cart::Event> decode_cart_event(const store::StoredEvent& e) {
  auto body = codec::decode_cart_event(e.data.type, e.data.schema, e.data.payload);
  if (!body)
    return Error(Code::store_error, store::to_string(e.stream) + " event " +
                                        std::to_string(e.seq) + ": " + body.error().message);
  return cart::Event{e.data.recorded_at_ms, std::move(*body)};
}

std::string entity_key(const store::StreamId& stream) {
  std::string k;
  k.reserve(stream.tenant.size() + stream.kind.size() + stream.id.size() + 2);
  k += stream.tenant;
  k.push_back('\0');
  k += stream.kind;
  k.push_back('\0');
  k += stream.id;
  return k;
}

store::TablePut cart_snapshot(const store::StreamId& stream, const cart::Cart& cart,
                              std::uint64_t stream_version) {
  // "<stream version>\n<cart snapshot JSON>"
  std::string value = std::to_string(stream_version);
  value.push_back('\n');
  value += codec::cart_snapshot_json(cart);
  return store::TablePut{store::Table::snapshots, entity_key(stream), std::move(value),
                         store::PutMode::upsert};
}

namespace {

// The snapshot of `stream`, if there is a readable one.
std::optional<LoadedCart> read_snapshot(store::Journal& journal, const store::StreamId& stream) {
  auto row = journal.get(store::Table::snapshots, entity_key(stream));
  if (!row || !row->has_value()) return std::nullopt;
  const std::string& v = **row;
  auto nl = v.find('\n');
  if (nl == std::string::npos) return std::nullopt;
  std::uint64_t version = 0;
  auto r = std::from_chars(v.data(), v.data() + nl, version);
  if (r.ec != std::errc() || r.ptr != v.data() + nl) return std::nullopt;
  auto c = codec::cart_from_snapshot(std::string_view(v).substr(nl + 1));
  if (!c) return std::nullopt;  // a snapshot is only an optimisation: fold from the start
  return LoadedCart{std::move(*c), version};
}

}  // namespace

Result<LoadedCart> load_cart(store::Journal& journal, const store::StreamId& stream,
                             std::optional<std::uint64_t> upto) {
  LoadedCart out;
  if (!upto) {
    if (auto snap = read_snapshot(journal, stream)) out = std::move(*snap);
  }
  std::size_t max = upto ? (*upto > out.stream_version ? *upto - out.stream_version : 0) : SIZE_MAX;
  auto events = journal.read_stream(stream, out.stream_version + 1, max);
  if (!events) return Error(Code::store_error, events.error.message);
  for (const auto& stored : *events) {
    auto e = decode_cart_event(stored);
    if (!e) return e.error();
    cart::apply(out.cart, *e);
    out.stream_version = stored.seq;
  }
  return out;
}

}  // namespace orch::streams
