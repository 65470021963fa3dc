// A small field-list codec: an event type lists its fields once, in a
// `fields(x, f)` function, and the same list serves encoding to JSON and
// decoding from it. Used by the checkout, payment and order codecs.
//
//   template <class F> void fields(Captured& x, F& f) {
//     f("amount_minor", x.amount_minor);
//     f("reference", x.reference);
//   }
#pragma once

#include <array>
#include <type_traits>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "events/cart.hpp"
#include "events/checkout.hpp"
#include "events/codec.hpp"
#include "events/error.hpp"
#include "events/json.hpp"

namespace orch::fields {

// ------------------------------------------------------------ field lists

template <class F>
void fields(checkout::Totals& x, F& f) {
  f("subtotal_minor", x.subtotal_minor);
  f("discount_minor", x.discount_minor);
  f("tax_minor", x.tax_minor);
  f("total_minor", x.total_minor);
}

template <class F>
void fields(cart::Line& x, F& f) {
  f("line_id", x.line_id);
  f("item_id", x.item_id);
  f("title", x.title);
  f("quantity", x.quantity);
  f("unit_price_minor", x.unit_price_minor);
  f("total_minor", x.total_minor);
}

template <class F>
void fields(checkout::Location& x, F& f) {
  f("country_code", x.country_code);
  f("region", x.region);
  f("postal_code", x.postal_code);
}

// ------------------------------------------------------------------ writer

class FieldWriter {
 public:
  explicit FieldWriter(json::Writer& w) : w_(w) {}

  void operator()(std::string_view k, const std::string& v) { w_.field(k, v); }
  void operator()(std::string_view k, std::int64_t v) { w_.field(k, v); }
  void operator()(std::string_view k, std::uint64_t v) { w_.field(k, v); }
  void operator()(std::string_view k, bool v) { w_.field(k, v); }
  void operator()(std::string_view k, const std::optional<std::string>& v) { w_.field(k, v); }
  // Enums travel as their names: to_string(E) found by argument lookup.
  template <class E>
  void operator()(std::string_view k, E& v) requires std::is_enum_v<E> { w_.field(k, to_string(v)); }
  template <class T>
  void operator()(std::string_view k, T& v) requires requires(T& t, FieldWriter& f) { fields(t, f); }
  {
    w_.key(k).begin_object();
    fields(v, *this);
    w_.end_object();
  }
  template <class T>
  void operator()(std::string_view k, std::optional<T>& v) {
    if (!v) {
      w_.key(k).null();
      return;
    }
    (*this)(k, *v);
  }
  void operator()(std::string_view k, std::vector<std::string>& v) {
    w_.key(k).begin_array();
    for (const auto& item : v) w_.value(item);
    w_.end_array();
  }
  template <class T>
  void operator()(std::string_view k, std::vector<T>& v) {
    w_.key(k).begin_array();
    for (auto& item : v) {
      w_.begin_object();
      fields(item, *this);
      w_.end_object();
    }
    w_.end_array();
  }

 private:
  json::Writer& w_;
};

// ------------------------------------------------------------------ reader

class FieldReader {
 public:
  FieldReader(const json::Value* obj, std::string path) : r_(obj, std::move(path)) {}

  void operator()(std::string_view k, std::string& v) { v = r_.string(k).value_or(""); }
  void operator()(std::string_view k, std::int64_t& v) { v = r_.int64(k).value_or(0); }
  void operator()(std::string_view k, std::uint64_t& v) { v = r_.uint64(k).value_or(0); }
  void operator()(std::string_view k, bool& v) { v = r_.boolean(k).value_or(false); }
  void operator()(std::string_view k, std::optional<std::string>& v) { v = r_.string(k, false); }
  // Enums: parse_enum(name, E&) found by argument lookup.
  template <class E>
  void operator()(std::string_view k, E& v) requires std::is_enum_v<E> {
    auto name = r_.string(k);
    if (name && !parse_enum(*name, v))
      r_.fail(Error(Code::invalid_body, "field '" + r_.path_of(k) + "' has unknown value '" + *name + "'"));
  }
  template <class T>
  void operator()(std::string_view k, T& v) requires requires(T& t, FieldReader& f) { fields(t, f); }
  {
    FieldReader nested(r_.object(k), r_.path_of(k));
    if (ok()) fields(v, nested);
    merge(nested);
  }
  template <class T>
  void operator()(std::string_view k, std::optional<T>& v) {
    const json::Value* o = r_.object(k, false);
    if (!o) return;
    v.emplace();
    FieldReader nested(o, r_.path_of(k));
    fields(*v, nested);
    merge(nested);
  }
  void operator()(std::string_view k, std::vector<std::string>& v) {
    const json::Value* a = r_.array(k);
    if (!a) return;
    for (const auto& item : a->items()) {
      if (!item.is_string()) {
        r_.fail(Error(Code::invalid_body, "field '" + r_.path_of(k) + "' must hold strings"));
        return;
      }
      v.push_back(item.as_string());
    }
  }
  template <class T>
  void operator()(std::string_view k, std::vector<T>& v) {
    const json::Value* a = r_.array(k);
    if (!a) return;
    for (const auto& item : a->items()) {
      T x{};
      FieldReader nested(&item, r_.path_of(k) + "[]");
      fields(x, nested);
      merge(nested);
      v.push_back(std::move(x));
    }
  }

  bool ok() const { return r_.ok(); }
  const Error& error() const { return r_.error(); }

 private:
  void merge(const FieldReader& nested) {
    if (!nested.ok()) r_.fail(nested.error());
  }
  json::ObjectReader r_;
};

// ------------------------------------------------------- variant codecs

using codec::Encoded;

// `names` gives the stable type name of each alternative of V, in order.
template <class V, std::size_t N>
Encoded encode_variant(const V& body, const std::array<std::string_view, N>& names) {
  static_assert(std::variant_size_v<V> == N);
  json::Writer w;
  w.begin_object();
  FieldWriter fw(w);
  std::visit([&](const auto& e) { fields(const_cast<std::decay_t<decltype(e)>&>(e), fw); }, body);
  w.end_object();
  return Encoded{std::string(names[body.index()]), 1, w.take()};
}

namespace detail {
template <class V, std::size_t... I>
V make_alternative(std::size_t index, std::index_sequence<I...>) {
  V out;
  ((index == I ? (out.template emplace<I>(), void()) : void()), ...);
  return out;
}
}  // namespace detail

template <class V, std::size_t N>
Result<V> decode_variant(std::string_view type, std::uint32_t schema, std::string_view payload,
                         const std::array<std::string_view, N>& names) {
  auto corrupt = [&](const std::string& why) {
    return Error(Code::store_error, "cannot decode event '" + std::string(type) + "' (schema " +
                                        std::to_string(schema) + "): " + why);
  };
  std::size_t index = N;
  for (std::size_t i = 0; i < N; ++i)
    if (names[i] == type) index = i;
  if (index == N) return corrupt("unknown event type");
  if (schema != 1) return corrupt("unknown schema version");
  auto doc = json::parse(payload);
  if (!doc) return corrupt(doc.error().message);
  V body = detail::make_alternative<V>(index, std::make_index_sequence<N>{});
  FieldReader fr(&*doc, "");
  std::visit([&](auto& e) { fields(e, fr); }, body);
  if (!fr.ok()) return corrupt(fr.error().message);
  return body;
}

}  // namespace orch::fields
