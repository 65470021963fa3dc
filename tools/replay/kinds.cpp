// The kind registry: what the replay tool knows about each entity kind.
// A new kind (checkout, payment, order) is one entry in `kinds` below.
#include <charconv>
#include <cstdint>
#include <variant>

#include "actors/streams.hpp"
#include "events/codec.hpp"
#include "events/money.hpp"
#include "replay.hpp"

namespace orch::replay {

namespace {

// ------------------------------------------------------------------ any kind

std::optional<std::string> check_json_event(const store::StoredEvent& e) {
  auto doc = parse_payload(e.data.payload);
  if (!doc) return "payload is not valid JSON: " + doc.error().message;
  return std::nullopt;
}

// ------------------------------------------------------------------ carts

// What decide() guarantees about the values in cart events (src/events/cart.cpp).
// The fold trusts these; an event outside them is corrupt, and folding it
// could overflow.
std::optional<std::string> implausible(const cart::EventBody& body) {
  auto quantity = [](std::int64_t q, std::int64_t min) -> std::optional<std::string> {
    if (q < min || q > cart::max_quantity)
      return "quantity " + std::to_string(q) + " outside " + std::to_string(min) + ".." +
             std::to_string(cart::max_quantity);
    return std::nullopt;
  };
  auto price = [](std::int64_t p) -> std::optional<std::string> {
    if (p < 0) return "negative unit_price_minor " + std::to_string(p);
    return std::nullopt;
  };
  if (const auto* e = std::get_if<cart::ItemAdded>(&body)) {
    if (auto p = quantity(e->quantity, 1)) return p;
    return price(e->unit_price_minor);
  }
  if (const auto* e = std::get_if<cart::ItemQuantityChanged>(&body))
    return quantity(e->quantity, 1);
  if (const auto* e = std::get_if<cart::Repriced>(&body)) {
    for (const auto& p : e->prices)
      if (auto bad = price(p.unit_price_minor)) return bad;
    return std::nullopt;
  }
  if (const auto* e = std::get_if<cart::AdjustmentApplied>(&body)) {
    const bool sane = e->kind == cart::DiscountKind::percentage ? (e->value >= 0 && e->value <= 100)
                                                                : e->value >= 0;
    if (!sane)
      return "adjustment value " + std::to_string(e->value) + " invalid for kind " +
             std::string(cart::to_string(e->kind));
    return std::nullopt;
  }
  if (const auto* e = std::get_if<cart::TaxResolved>(&body)) {
    if (e->tax_minor < 0) return "negative tax_minor " + std::to_string(e->tax_minor);
  }
  return std::nullopt;
}

std::optional<std::string> check_cart_event(const store::StoredEvent& e) {
  auto body = codec::decode_cart_event(e.data.type, e.data.schema, e.data.payload);
  if (!body) return body.error().message;
  if (auto p = implausible(*body)) return e.data.type + ": " + *p;
  return std::nullopt;
}

std::vector<std::string> cart_invariants(const cart::Cart& c, const store::StreamId& stream) {
  std::vector<std::string> out;
  if (c.version < 1) out.push_back("cart version " + std::to_string(c.version) + " < 1");
  if (c.cart_id != stream.id)
    out.push_back("cart_id '" + c.cart_id + "' differs from the stream id");
  if (c.tenant_id != stream.tenant)
    out.push_back("tenant_id '" + c.tenant_id + "' differs from the stream's tenant");
  std::optional<std::int64_t> subtotal = 0;
  for (const auto& l : c.lines) {
    auto t = money::mul(l.unit_price_minor, l.quantity);
    if (!t || *t != l.total_minor)
      out.push_back("line " + l.line_id + ": total_minor " + std::to_string(l.total_minor) +
                    " != unit_price_minor " + std::to_string(l.unit_price_minor) + " * quantity " +
                    std::to_string(l.quantity));
    if (subtotal) subtotal = money::add(*subtotal, l.total_minor);
  }
  if (!subtotal || *subtotal != c.subtotal_minor)
    out.push_back("subtotal_minor " + std::to_string(c.subtotal_minor) +
                  " != the sum of the line totals");
  std::optional<std::int64_t> discount = 0;
  for (const auto& a : c.adjustments)
    if (discount) discount = money::add(*discount, a.amount_minor);
  if (!discount || *discount != c.discount_minor)
    out.push_back("discount_minor " + std::to_string(c.discount_minor) +
                  " != the sum of the adjustment amounts");
  std::optional<std::int64_t> total = money::sub(c.subtotal_minor, c.discount_minor);
  if (total) total = money::add(*total, c.tax_minor);
  if (!total || *total != c.total_minor)
    out.push_back("total_minor " + std::to_string(c.total_minor) + " != subtotal_minor " +
                  std::to_string(c.subtotal_minor) + " - discount_minor " +
                  std::to_string(c.discount_minor) + " + tax_minor " + std::to_string(c.tax_minor));
  return out;
}

struct Snapshot {
  std::uint64_t version = 0;
  std::string json;  // normalised: cart_snapshot_json of the decoded cart
};

// The snapshot row of the stream (see streams::cart_snapshot), if any.
std::optional<Snapshot> read_cart_snapshot(store::Journal& journal, const store::StreamId& stream,
                                           std::vector<std::string>& problems) {
  auto row = journal.get(store::Table::snapshots, streams::entity_key(stream));
  if (!row) {
    problems.push_back("snapshot: " + row.error.message);
    return std::nullopt;
  }
  if (!row->has_value()) return std::nullopt;
  const std::string& v = **row;
  const auto nl = v.find('\n');
  Snapshot s;
  if (nl == std::string::npos ||
      std::from_chars(v.data(), v.data() + nl, s.version).ptr != v.data() + nl || s.version == 0) {
    problems.push_back("snapshot: malformed row (expected \"<version>\\n<json>\")");
    return std::nullopt;
  }
  auto c = codec::cart_from_snapshot(std::string_view(v).substr(nl + 1));
  if (!c) {
    problems.push_back("snapshot: " + c.error().message);
    return std::nullopt;
  }
  s.json = codec::cart_snapshot_json(*c);
  return s;
}

std::vector<std::string> check_cart_stream(store::Journal& journal, const store::StreamId& stream,
                                           const std::vector<store::StoredEvent>& events) {
  std::vector<std::string> problems;
  if (events.empty()) return problems;
  const std::optional<Snapshot> snap = read_cart_snapshot(journal, stream, problems);
  cart::Cart c;
  for (const auto& stored : events) {
    auto body = codec::decode_cart_event(stored.data.type, stored.data.schema, stored.data.payload);
    if (!body) {  // check_event passed, so this does not happen
      problems.push_back("seq " + std::to_string(stored.seq) + ": " + body.error().message);
      return problems;
    }
    const bool created = std::holds_alternative<cart::Created>(*body);
    if (stored.seq == 1 && !created)
      problems.push_back("seq 1: the first event is " + stored.data.type + ", not cart.created");
    if (stored.seq != 1 && created)
      problems.push_back("seq " + std::to_string(stored.seq) +
                         ": cart.created after the first event");
    cart::apply(c, cart::Event{stored.data.recorded_at_ms, std::move(*body)});
    if (snap && snap->version == stored.seq && codec::cart_snapshot_json(c) != snap->json)
      problems.push_back("snapshot at version " + std::to_string(snap->version) +
                         " differs from the fold of events 1.." + std::to_string(snap->version));
  }
  if (snap && snap->version > events.back().seq) {
    // Either written after we read the stream (the server is running) or wrong.
    auto now = journal.stream_version(stream);
    if (now && *now < snap->version)
      problems.push_back("snapshot at version " + std::to_string(snap->version) +
                         " is ahead of the stream (version " + std::to_string(*now) + ")");
  }
  for (auto& p : cart_invariants(c, stream)) problems.push_back(std::move(p));
  return problems;
}

Result<std::string> cart_state_json(store::Journal& journal, const store::StreamId& stream,
                                    std::optional<std::uint64_t> at) {
  // The fold trusts its events: refuse a stream holding a corrupt one first.
  auto events = journal.read_stream(stream, 1, at ? static_cast<std::size_t>(*at) : SIZE_MAX);
  if (!events) return Error(Code::store_error, events.error.message);
  for (const auto& e : *events) {
    if (auto p = check_cart_event(e))
      return Error(Code::store_error,
                   store::to_string(stream) + " seq " + std::to_string(e.seq) + ": " + *p);
  }
  auto loaded = streams::load_cart(journal, stream, at);
  if (!loaded) return loaded.error();
  return codec::cart_snapshot_json(loaded->cart);
}

// ------------------------------------------- checkouts, payments, orders

template <auto Decode>
std::optional<std::string> check_decodes(const store::StoredEvent& e) {
  auto body = Decode(e.data.type, e.data.schema, e.data.payload);
  if (!body) return body.error().message;
  return std::nullopt;
}

template <auto Load, auto Render>
Result<std::string> state_of(store::Journal& journal, const store::StreamId& stream,
                             std::optional<std::uint64_t> at) {
  auto loaded = Load(journal, stream, at);
  if (!loaded) return loaded.error();
  return Render(loaded->state);
}

// ------------------------------------------------------------------ registry

const Kind kinds[] = {
    {streams::cart_kind, check_cart_event, check_cart_stream, cart_state_json},
    {streams::checkout_kind, check_decodes<codec::decode_checkout_event>, nullptr,
     state_of<streams::load_saga, codec::saga_json>},
    {streams::payment_kind, check_decodes<codec::decode_payment_event>, nullptr,
     state_of<streams::load_payment, codec::payment_view_json>},
    {streams::order_kind, check_decodes<codec::decode_order_event>, nullptr,
     state_of<streams::load_order, codec::order_view_json>},
};

const Kind generic{"", check_json_event, nullptr, nullptr};

}  // namespace

const Kind* find_kind(std::string_view name) {
  for (const Kind& k : kinds)
    if (k.name == name) return &k;
  return nullptr;
}

const Kind& generic_kind() {
  return generic;
}

std::string kinds_with_fold() {
  std::string out;
  for (const Kind& k : kinds) {
    if (!k.state_json) continue;
    if (!out.empty()) out += ", ";
    out += k.name;
  }
  return out;
}

}  // namespace orch::replay
