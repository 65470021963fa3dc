#include "actors/cart_pipeline.hpp"

namespace orch::actors {

namespace {

// Applies `events` to `cart` (the time stamp does not matter for totals).
void apply_all(cart::Cart& cart, const std::vector<cart::EventBody>& events) {
  for (const auto& e : events) cart::apply(cart, cart::Event{0, e});
}

void append(std::vector<cart::EventBody>& to, std::vector<cart::EventBody>& from) {
  for (auto& e : from) to.push_back(std::move(e));
}

}  // namespace

Result<std::vector<cart::EventBody>> run_cart_command(const adapters::Backends& backends,
                                                      const adapters::CallContext& call,
                                                      const cart::Cart& cart,
                                                      const cart::Command& command,
                                                      const cart::Context& ctx) {
  if (auto problems = cart::validate(command); !problems.empty())
    return validation_failed(std::move(problems));
  if (auto s = cart::precheck(cart, command); !s) return s.error();

  cart::Needs needs = cart::needs(cart, command);
  cart::Facts facts;
  if (needs.catalog_item) {
    auto item = backends.catalog->get_item(call, *needs.catalog_item);
    if (!item) return item.error();
    facts.item = std::move(*item);
  }
  if (needs.discount_code) {
    auto discount = backends.pricing->resolve_discount(call, *needs.discount_code);
    if (!discount) return discount.error();
    facts.discount = std::move(*discount);
  }

  auto events = cart::decide(cart, command, facts, ctx);
  if (!events || !needs.recalculate || events->empty()) return events;

  cart::Cart next = cart;
  apply_all(next, *events);

  auto prices = backends.pricing->resolve_prices(call, next);
  if (!prices) return prices.error();
  auto repriced = cart::reprice(next, *prices);
  if (!repriced) return repriced.error();
  apply_all(next, *repriced);
  append(*events, *repriced);

  auto tax = backends.tax->resolve_tax(call, next);
  if (!tax) return tax.error();
  auto retaxed = cart::retax(next, *tax);
  if (!retaxed) return retaxed.error();
  append(*events, *retaxed);
  return events;
}

}  // namespace orch::actors
