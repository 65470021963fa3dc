// std::visit with a set of lambdas: std::visit(overloaded{[](A&){}, [](B&){}}, v).
#pragma once

namespace orch {

template <class... Ts>
struct overloaded : Ts... {
  using Ts::operator()...;
};

}  // namespace orch
