// orchestrator-replay: see replay.hpp and `orchestrator-replay --help`.
#include <iostream>

#include "replay.hpp"

int main(int argc, char** argv) {
  std::ios::sync_with_stdio(false);
  int rc = orch::replay::run(argc, argv, std::cout, std::cerr);
  std::cout.flush();
  if (!std::cout) {
    std::cerr << "orchestrator-replay: cannot write to stdout\n";
    return orch::replay::exit_failure;
  }
  return rc;
}
