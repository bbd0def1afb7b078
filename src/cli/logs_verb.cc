// `ramp logs ROLLOUT [--revision HASH] [--replica N] [-f] [--tail LINES]`: prints what a
// rollout's replicas wrote to stdout and stderr (platform.process keeps one log per replica
// slot), read through the API (GET …/replicas, then …/logs?replica=R&offset=N&limit=B).
// With several replicas each line starts with "[replica name] ". -f follows the logs by
// polling each one from where the last read ended, until SIGINT or SIGTERM (exit 0) or until
// every followed replica is gone.

#include <atomic>
#include <csignal>
#include <map>
#include <ostream>

#include "api/request.h"
#include "api/types.h"
#include "cli/log_lines.h"
#include "cli/output.h"
#include "cli/remote.h"

namespace ramp::cli {
namespace {

std::atomic<bool> gStopFollowing{false};
extern "C" void onStopSignal(int) { gStopFollowing.store(true); }

// How often -f asks for new lines, and how long each nap between checks of the stop flag is.
constexpr Duration kPollInterval{500};
constexpr Duration kNap{100};

struct Followed {
  std::string name;
  int64_t offset = 0;
  LogLines lines;
};

class LogsVerb final : public Verb {
 public:
  std::string name() const override { return "logs"; }
  std::string summary() const override {
    return "Print the logs of a rollout's replicas (-f to follow)";
  }
  void configure(CLI::App& cmd) override {
    cmd.add_option("rollout", rollout_, "Rollout name")->required();
    cmd.add_option("--revision", revision_, "Only replicas of this pod template hash");
    cmd.add_option("--replica", replica_, "Only the replica with this index (0, 1, …)")
        ->check(CLI::NonNegativeNumber);
    cmd.add_flag("-f,--follow", follow_, "Keep printing new lines until interrupted");
    cmd.add_option("--tail", tail_, "Start with the last LINES lines of each log")
        ->check(CLI::NonNegativeNumber);
    addRemoteFlags(cmd, flags_, false);
  }

  int run(IoStreams& io) override {
    auto client = makeClient(io, flags_);
    if (!client) return 2;
    base_ = api::objectPath(api::resourceOf(spec::Kind::kRollout), flags_.namespace_, rollout_);
    auto body = client->call("GET", base_ + "/replicas");
    if (!body) return reportError(io, body.error());
    auto replicas = api::decodeReplicas(*body);
    if (!replicas) return reportError(io, replicas.error());
    std::vector<Followed> chosen = select(*replicas);
    if (chosen.empty()) {
      std::string names;
      for (const api::ReplicaView& r : *replicas) names += (names.empty() ? "" : ", ") + r.name;
      io.err << "ramp: rollout " << rollout_ << " has no replica" << selectionText() << " ("
             << (names.empty() ? "it runs none" : "replicas: " + names) << ")\n";
      return 1;
    }
    for (Followed& f : chosen) {
      auto s = tail_ >= 0 ? readTail(*client, f, io) : readNew(*client, f, io);
      if (!s) return reportError(io, s.error());
    }
    if (!follow_) {
      for (Followed& f : chosen) io.out << f.lines.flush();
      io.out.flush();
      return 0;
    }
    return followLogs(*client, chosen, io, realClock());
  }

 private:
  std::vector<Followed> select(const std::vector<api::ReplicaView>& replicas) const {
    std::vector<Followed> out;
    std::map<std::string, bool> seen;  // a replaced replica and its successor share a name
    for (const api::ReplicaView& r : replicas) {
      if (!revision_.empty() && r.podTemplateHash != revision_) continue;
      if (replica_ >= 0 && r.index != replica_) continue;
      if (seen[r.name]) continue;
      seen[r.name] = true;
      out.push_back(Followed{r.name, 0, LogLines("")});
    }
    if (out.size() > 1) {
      for (Followed& f : out) f.lines = LogLines("[" + f.name + "] ");
    }
    return out;
  }

  std::string selectionText() const {
    std::string s;
    if (!revision_.empty()) s += " of revision " + revision_;
    if (replica_ >= 0) s += " with index " + std::to_string(replica_);
    return s;
  }

  Result<api::LogChunkView> read(ApiClient& client, const std::string& replica, int64_t offset) {
    auto body = client.call(
        "GET", base_ + "/logs?" + api::encodeLogsQuery({replica, offset, api::kMaxLogLimit}));
    if (!body) return std::unexpected(body.error());
    return api::decodeLogChunk(*body);
  }

  // Prints everything from f.offset to the end of the log (in pieces of at most 1 MiB).
  Status readNew(ApiClient& client, Followed& f, IoStreams& io) {
    while (true) {
      auto chunk = read(client, f.name, f.offset);
      if (!chunk) return std::unexpected(chunk.error());
      io.out << f.lines.feed(chunk->text);
      bool more = chunk->nextOffset > f.offset &&
                  static_cast<int64_t>(chunk->text.size()) >= api::kMaxLogLimit - 3;
      f.offset = chunk->nextOffset;
      if (!more) return {};
    }
  }

  // Prints the last tail_ lines (within the last 1 MiB of the log).
  Status readTail(ApiClient& client, Followed& f, IoStreams& io) {
    auto chunk = read(client, f.name, -api::kMaxLogLimit);
    if (!chunk) return std::unexpected(chunk.error());
    io.out << f.lines.feed(lastLines(chunk->text, static_cast<size_t>(tail_), chunk->offset == 0));
    f.offset = chunk->nextOffset;
    return {};
  }

  int followLogs(ApiClient& client, std::vector<Followed>& followed, IoStreams& io, Clock& clock) {
    gStopFollowing.store(false);
    auto previousInt = std::signal(SIGINT, onStopSignal);
    auto previousTerm = std::signal(SIGTERM, onStopSignal);
    int code = 0;
    io.out.flush();
    while (!gStopFollowing.load() && !followed.empty()) {
      for (Time until = clock.now() + kPollInterval;
           clock.now() < until && !gStopFollowing.load();) {
        clock.sleepFor(kNap);
      }
      if (gStopFollowing.load()) break;
      std::vector<Followed> still;
      for (Followed& f : followed) {
        auto s = readNew(client, f, io);
        if (!s && s.error().code == ErrorCode::kNotFound) {
          io.out << f.lines.flush();
          io.err << "ramp: replica " << f.name << " is gone\n";
          continue;
        }
        if (!s) {
          code = reportError(io, s.error());
          gStopFollowing.store(true);
          break;
        }
        still.push_back(std::move(f));
      }
      io.out.flush();
      if (code != 0) break;
      followed = std::move(still);
    }
    for (Followed& f : followed) io.out << f.lines.flush();
    io.out.flush();
    std::signal(SIGINT, previousInt);
    std::signal(SIGTERM, previousTerm);
    return code;
  }

  std::string rollout_, revision_, base_;
  int32_t replica_ = -1;
  int64_t tail_ = -1;
  bool follow_ = false;
  RemoteFlags flags_;
};

}  // namespace

VerbPtr makeLogsVerb() { return std::make_unique<LogsVerb>(); }

}  // namespace ramp::cli
