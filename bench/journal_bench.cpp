// journal_bench DIR [SECONDS] [CLIENTS]: durable journal appends per second
// through the journal writer actor, with group commit (the default) and
// without it (max_batch = 1: one transaction and one sync per append).
// CLIENTS actors each append one ~200-byte event to their own stream,
// waiting for the durable answer before sending the next, like cart actors.
#include <caf/all.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include "actors/journal_writer.hpp"
#include "actors/messages.hpp"
#include "store/journal.hpp"

using namespace orch;
using namespace std::chrono;

namespace {

struct Shared {
  std::atomic<std::uint64_t> appends{0};
  std::atomic<int> running{0};
  steady_clock::time_point deadline;
};

using next_atom = caf::atom_constant<caf::atom("next")>;

struct ClientState {
  std::uint64_t version = 0;
};

// Appends one event, waits for the durable answer, repeats until the deadline.
caf::behavior client(caf::stateful_actor<ClientState>* self, caf::actor writer, std::string id,
                     std::shared_ptr<Shared> shared) {
  self->send(self, next_atom::value);
  return {
      [=](next_atom) {
        if (steady_clock::now() >= shared->deadline) {
          shared->running--;
          self->quit();
          return;
        }
        store::WriteSet ws;
        ws.appends.push_back(store::StreamAppend{
            store::StreamId{"bench", "cart", id}, self->state.version,
            {store::EventData{"cart.item_added", 1, 0,
                              R"({"line_id":"li_00000000-0000-4000-8000-000000000000","item_id":"pot_ceramic","title":"Ceramic Pot","unit_price_minor":1500,"quantity":1})"}}});
        self->request(writer, caf::infinite, actors::append_atom::value, std::move(ws))
            .then(
                [=](store::WriteResult& r) {
                  if (r.status == store::WriteStatus::ok) {
                    self->state.version = r.versions.front();
                    shared->appends++;
                  }
                  self->send(self, next_atom::value);
                },
                [=](caf::error&) {
                  shared->running--;
                  self->quit();
                });
      },
  };
}

double run(const std::string& dir, std::size_t max_batch, int secs, int clients,
           std::uint64_t& commits) {
  std::filesystem::remove_all(dir);
  store::Options opts;
  opts.dir = dir;
  auto journal = store::open_lmdb_journal(opts);
  if (!journal) {
    std::fprintf(stderr, "%s\n", journal.error.message.c_str());
    std::exit(1);
  }
  actors::WriterStats stats;
  double rate = 0;
  {
    caf::actor_system_config cfg;
    cfg.set("scheduler.policy", caf::atom("sharing"));
    cfg.set("scheduler.max-threads", 2);
    caf::actor_system sys{cfg};
    auto writer = actors::spawn_journal_writer(sys, **journal, stats, {max_batch});
    auto shared = std::make_shared<Shared>();
    shared->deadline = steady_clock::now() + seconds(secs);
    auto start = steady_clock::now();
    shared->running = clients;
    for (int i = 0; i < clients; ++i) sys.spawn(client, writer, "c" + std::to_string(i), shared);
    std::this_thread::sleep_for(seconds(secs));
    // Clients stop at the deadline; wait for the last answers.
    while (shared->running.load() > 0) std::this_thread::sleep_for(milliseconds(10));
    rate = shared->appends.load() / duration<double>(steady_clock::now() - start).count();
    caf::anon_send_exit(writer, caf::exit_reason::user_shutdown);
  }
  commits = stats.commits.load();
  journal->reset();
  std::filesystem::remove_all(dir);
  return rate;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s DIR [SECONDS] [CLIENTS]\n", argv[0]);
    return 2;
  }
  std::string dir = argv[1];
  int secs = argc > 2 ? std::stoi(argv[2]) : 5;
  int clients = argc > 3 ? std::stoi(argv[3]) : 64;
  std::uint64_t c1 = 0, c2 = 0;
  double grouped = run(dir, 4096, secs, clients, c1);
  double single = run(dir, 1, secs, clients, c2);
  std::printf("journal appends/s with group commit:    %10.0f  (%d clients, %llu syncs)\n", grouped,
              clients, static_cast<unsigned long long>(c1));
  std::printf("journal appends/s without group commit: %10.0f  (%d clients, 1 append per sync)\n",
              single, clients);
  return 0;
}
