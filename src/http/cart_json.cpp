#include "http/cart_json.hpp"

#include "events/ids.hpp"

namespace orch::http {

namespace {

Result<std::string> cart_id_from(const std::string& raw, const std::string& field) {
  auto id = ids::normalize_uuid(raw);
  if (!id) return Error(Code::bad_request, field + " must be a UUID (got '" + raw.substr(0, 64) + "')");
  return *id;
}

}  // namespace

Result<CartCommandRequest> parse_cart_command(const json::Value& body) {
  json::ObjectReader root(&body, "");
  const json::Value* cmd = root.object("command");
  auto top_cart_id = root.string("cart_id", false);
  if (!root.ok()) return root.error();

  json::ObjectReader c(cmd, "command");
  auto kind = c.string("kind");
  if (!c.ok()) return c.error();

  CartCommandRequest out;
  bool needs_cart = true;
  std::optional<std::string> own_cart_id;  // command.cart_id (get_cart, start_checkout)
  if (*kind == "create_cart") {
    needs_cart = false;
    out.command = cart::CreateCart{c.string("merchant_id").value_or(""), c.string("currency").value_or("")};
  } else if (*kind == "add_item") {
    out.command = cart::AddItem{c.string("item_id").value_or(""), c.int64("quantity").value_or(0),
                                c.uint64("expected_version", false)};
  } else if (*kind == "update_item_qty") {
    out.command = cart::UpdateItemQty{c.string("line_id").value_or(""), c.int64("quantity").value_or(0),
                                      c.uint64("expected_version", false)};
  } else if (*kind == "remove_item") {
    out.command = cart::RemoveItem{c.string("line_id").value_or(""), c.uint64("expected_version", false)};
  } else if (*kind == "apply_adjustment") {
    out.command = cart::ApplyAdjustment{c.string("code").value_or(""), c.uint64("expected_version", false)};
  } else if (*kind == "get_cart") {
    own_cart_id = c.string("cart_id", false);
    out.command = cart::GetCart{};
  } else if (*kind == "start_checkout") {
    own_cart_id = c.string("cart_id", false);
    out.command = cart::StartCheckout{c.uint64("cart_version").value_or(0)};
  } else {
    return Error(Code::invalid_body,
                 "unknown command kind '" + kind->substr(0, 64) +
                     "' (expected create_cart, add_item, update_item_qty, remove_item, "
                     "apply_adjustment, get_cart or start_checkout)");
  }
  if (!c.ok()) return c.error();

  // The reference parses a top-level cart_id even where it is not used.
  std::string top;
  if (top_cart_id) {
    auto id = cart_id_from(*top_cart_id, "cart_id");
    if (!id) return id.error();
    top = *id;
  }
  if (own_cart_id) {
    auto id = cart_id_from(*own_cart_id, "command.cart_id");
    if (!id) return id.error();
    out.cart_id = *id;
  } else if (needs_cart) {
    out.cart_id = top;
  }
  if (needs_cart && out.cart_id.empty())
    return Error(Code::missing_cart_id, "cart_id is required for " + *kind);
  return out;
}

}  // namespace orch::http
