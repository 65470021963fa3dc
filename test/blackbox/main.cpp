// doctest main of the black-box suite. Each doctest TEST_SUITE is one meson
// test (--test-suite=NAME), so the suites run in parallel.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <csignal>

int main(int argc, char** argv) {
  // A server closing a connection early (413) must not kill the test.
  std::signal(SIGPIPE, SIG_IGN);
  doctest::Context context(argc, argv);
  return context.run();
}
