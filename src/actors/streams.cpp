#include "actors/streams.hpp"

#include <charconv>

#include "events/codec.hpp"

namespace orch::streams {

store::StreamId cart_stream(const std::string& tenant, const std::string& cart_id) {
  return store::StreamId{tenant, cart_kind, cart_id};
}

std::vector<store::EventData> encode_cart_events(const std::vector<cart::EventBody>& events,
                                                 std::int64_t at_ms) {
  std::vector<store::EventData> out;
  out.reserve(events.size());
  for (const auto& e : events) {
    auto enc = codec::encode(e);
    out.push_back(store::EventData{std::move(enc.type), enc.schema, at_ms, std::move(enc.payload)});
  }
  return out;
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
