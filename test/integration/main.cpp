// doctest main of the integration tests. Each doctest TEST_SUITE (outbox,
// inbox, backends) is one meson test (--test-suite=NAME), so the suites run
// in parallel.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <csignal>

int main(int argc, char** argv) {
  // A fake answering a connection the server has already dropped (it was
  // killed, or its client timed out) must not kill the test.
  std::signal(SIGPIPE, SIG_IGN);
  doctest::Context context(argc, argv);
  return context.run();
}
