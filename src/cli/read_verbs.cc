// The read verbs against a running server:
//   ramp get KIND NAME [-w] [-o json|yaml]     (KIND: rollout, analysisrun, analysistemplate,
//                                                clusteranalysistemplate, or short ro/ar/at/cat)
//   ramp list [KIND] [-A] [-w] [-o json|yaml]   (KIND defaults to rollouts)
//   ramp status NAME [--timeout D]              (waits for Healthy; exit 1 Degraded, 3 timeout)
// Watch views redraw in place on a terminal and print each new state otherwise.

#include <nlohmann/json.hpp>
#include <ostream>

#include "api/types.h"
#include "cli/output.h"
#include "cli/remote.h"
#include "spec/codec.h"

namespace ramp::cli {
namespace {

constexpr int kExitTimeout = 3;

std::optional<Time> deadlineFrom(const std::string& timeout, Clock& clock, IoStreams& io,
                                 bool* bad) {
  *bad = false;
  if (timeout.empty()) return std::nullopt;
  auto d = parseTimeout(timeout);
  if (!d) {
    io.err << "ramp: " << d.error().message << "\n";
    *bad = true;
    return std::nullopt;
  }
  if (d->count() == 0) return std::nullopt;
  return clock.now() + *d;
}

std::string watchPath(const api::Resource* resource, const std::string& namespace_,
                      const std::string& name, bool events) {
  std::string q = "/api/v1/watch?events=" + std::string(events ? "true" : "false");
  if (resource != nullptr) q += "&kind=" + std::string(resource->plural);
  if (!namespace_.empty()) q += "&namespace=" + namespace_;
  if (!name.empty()) q += "&name=" + name;
  return q;
}

// Re-renders on every change after the initial SYNC; prints only when the text changes.
int runWatchView(IoStreams& io, ApiClient& client, const std::string& path,
                 const std::function<Result<std::string>()>& render, std::optional<Time> deadline,
                 Clock& clock) {
  std::string last;
  bool synced = false;
  Status streamStatus;
  Error failure{ErrorCode::kInternal, ""};
  bool failed = false;
  auto redraw = [&]() -> bool {
    auto text = render();
    if (!text) {
      failure = text.error();
      failed = true;
      return false;
    }
    if (*text == last) return true;
    last = *text;
    if (io.outIsTerminal) {
      io.out << kRedraw << *text;
    } else {
      io.out << *text << "\n";
    }
    io.out.flush();
    return true;
  };
  if (!redraw()) return reportError(io, failure);
  std::string lastId;
  auto onEvent = [&](const SseEvent& ev) -> bool {
    if (!ev.id.empty()) lastId = ev.id;
    if (ev.event == "ERROR") {
      auto e = api::decodeError(ev.data);
      failure = Error{ErrorCode::kUnavailable, e ? e->message : ev.data};
      failed = true;
      return false;
    }
    if (ev.event == "SYNC") {
      synced = true;
      return true;
    }
    if (!synced) return true;
    return redraw();
  };
  streamStatus = client.watch(path, "", onEvent, deadline, clock);
  if (failed) return reportError(io, failure);
  if (!streamStatus) {
    if (streamStatus.error().code == ErrorCode::kDeadlineExceeded) return 0;
    return reportError(io, streamStatus.error());
  }
  return 0;
}

class GetVerb final : public Verb {
 public:
  std::string name() const override { return "get"; }
  std::string summary() const override {
    return "Show a rollout (tree view), analysis run or template from the server";
  }
  void configure(CLI::App& cmd) override {
    cmd.add_option("kind", kind_,
                   "rollout | analysisrun | analysistemplate | "
                   "clusteranalysistemplate (or ro, ar, at, cat)")
        ->required();
    cmd.add_option("name", name_, "Object name")->required();
    cmd.add_flag("-w,--watch", watch_, "Keep watching and redraw on every change");
    cmd.add_option("--timeout", timeout_, "Stop watching after this long (e.g. 5m)");
    addRemoteFlags(cmd, flags_, true);
  }
  int run(IoStreams& io) override {
    const api::Resource* res = api::resourceByUserName(kind_);
    if (res == nullptr) {
      io.err << "ramp: unknown kind \"" << kind_
             << "\" (rollout, analysisrun, analysistemplate, clusteranalysistemplate)\n";
      return 2;
    }
    auto client = makeClient(io, flags_);
    if (!client) return 2;
    Clock& clock = realClock();
    std::string ns = res->clusterScoped ? "" : flags_.namespace_;
    if (!flags_.output.empty()) {
      auto body = client->call("GET", api::objectPath(*res, ns, name_));
      if (!body) return reportError(io, body.error());
      return printStructured(io, flags_.output, *body);
    }
    std::function<Result<std::string>()> render;
    if (res->kind == spec::Kind::kRollout) {
      render = [&]() -> Result<std::string> {
        auto view = fetchRolloutView(*client, ns, name_, io.outIsTerminal, clock);
        if (!view) return std::unexpected(view.error());
        return renderRollout(*view);
      };
    } else if (res->kind == spec::Kind::kAnalysisRun) {
      render = [&]() -> Result<std::string> {
        auto body = client->call("GET", api::objectPath(*res, ns, name_));
        if (!body) return std::unexpected(body.error());
        auto run = spec::analysisRunFromJson(*body, "server response");
        if (!run.value)
          return makeError(ErrorCode::kParse, "the server's AnalysisRun cannot be decoded");
        auto ev = client->call("GET", "/api/v1/events?kind=AnalysisRun&namespace=" + ns +
                                          "&name=" + name_ + "&tail=8");
        std::vector<store::Event> events;
        if (ev) {
          if (auto list = api::decodeEvents(*ev)) events = std::move(*list);
        }
        return renderAnalysisRun(*run.value, events, clock.now(), io.outIsTerminal);
      };
    } else {
      render = [&]() -> Result<std::string> {
        auto body = client->call("GET", api::objectPath(*res, ns, name_));
        if (!body) return std::unexpected(body.error());
        return jsonToYaml(*body);
      };
    }
    if (!watch_) {
      auto text = render();
      if (!text) return reportError(io, text.error());
      io.out << *text;
      return 0;
    }
    bool bad = false;
    auto deadline = deadlineFrom(timeout_, clock, io, &bad);
    if (bad) return 2;
    return runWatchView(io, *client, watchPath(res, ns, name_, true), render, deadline, clock);
  }

 private:
  std::string kind_, name_, timeout_;
  bool watch_ = false;
  RemoteFlags flags_;
};

class ListVerb final : public Verb {
 public:
  std::string name() const override { return "list"; }
  std::string summary() const override { return "List rollouts (or other kinds) on the server"; }
  void configure(CLI::App& cmd) override {
    cmd.add_option("kind", kind_,
                   "rollouts (default), analysisruns, analysistemplates, "
                   "clusteranalysistemplates");
    cmd.add_flag("-A,--all-namespaces", all_, "Every namespace");
    cmd.add_flag("-w,--watch", watch_, "Keep watching and redraw on every change");
    cmd.add_option("--timeout", timeout_, "Stop watching after this long (e.g. 5m)");
    addRemoteFlags(cmd, flags_, true);
  }
  int run(IoStreams& io) override {
    const api::Resource* res = api::resourceByUserName(kind_);
    if (res == nullptr) {
      io.err << "ramp: unknown kind \"" << kind_ << "\"\n";
      return 2;
    }
    auto client = makeClient(io, flags_);
    if (!client) return 2;
    Clock& clock = realClock();
    std::string ns = all_ || res->clusterScoped ? "" : flags_.namespace_;
    std::string path = api::collectionPath(*res, ns);
    if (!flags_.output.empty()) {
      auto body = client->call("GET", path);
      if (!body) return reportError(io, body.error());
      return printStructured(io, flags_.output, *body);
    }
    bool empty = false;
    auto render = [&]() -> Result<std::string> {
      auto body = client->call("GET", path);
      if (!body) return std::unexpected(body.error());
      auto list = api::decodeObjectList(*body);
      if (!list) return std::unexpected(list.error());
      empty = list->items.empty();
      if (empty) return noResourcesMessage(ns);
      bool allNs = all_ && !res->clusterScoped;
      if (res->kind == spec::Kind::kRollout) {
        std::vector<spec::Rollout> rollouts;
        for (const std::string& item : list->items) {
          auto r = spec::rolloutFromJson(item, "server response");
          if (r.value) rollouts.push_back(std::move(*r.value));
        }
        return renderRolloutTable(rollouts, allNs, io.outIsTerminal);
      }
      return renderObjectTable(list->items, res->kind == spec::Kind::kAnalysisRun, allNs);
    };
    if (!watch_) {
      auto text = render();
      if (!text) return reportError(io, text.error());
      // As kubectl: "No resources found" goes to stderr, so a pipe sees an empty list.
      (empty ? io.err : io.out) << *text;
      return 0;
    }
    bool bad = false;
    auto deadline = deadlineFrom(timeout_, clock, io, &bad);
    if (bad) return 2;
    return runWatchView(io, *client, watchPath(res, ns, "", false), render, deadline, clock);
  }

 private:
  std::string kind_ = "rollouts", timeout_;
  bool all_ = false, watch_ = false;
  RemoteFlags flags_;
};

class StatusVerb final : public Verb {
 public:
  std::string name() const override { return "status"; }
  std::string summary() const override {
    return "Wait until a rollout is Healthy (exit 0); exit 1 when Degraded, 3 on timeout";
  }
  void configure(CLI::App& cmd) override {
    cmd.add_option("name", name_, "Rollout name")->required();
    cmd.add_option("--timeout", timeout_, "Give up after this long (e.g. 5m; default: never)");
    cmd.add_flag("--no-watch", noWatch_, "Print the status once and exit");
    addRemoteFlags(cmd, flags_, false);
  }
  int run(IoStreams& io) override {
    auto client = makeClient(io, flags_);
    if (!client) return 2;
    Clock& clock = realClock();
    bool bad = false;
    auto deadline = deadlineFrom(timeout_, clock, io, &bad);
    if (bad) return 2;
    const api::Resource& ro = api::resourceOf(spec::Kind::kRollout);
    // The first GET reports a missing rollout or a refused token plainly.
    auto body = client->call("GET", api::objectPath(ro, flags_.namespace_, name_));
    if (!body) return reportError(io, body.error());
    std::string lastLine;
    int exitCode = -1;
    auto judge = [&](const std::string& json) {
      auto r = spec::rolloutFromJson(json, "server response");
      if (!r.value) return;
      const spec::Rollout& ro = *r.value;
      std::string status = rolloutStatus(ro);
      bool current = ro.status.observedGeneration.empty() ||
                     ro.status.observedGeneration == std::to_string(ro.metadata.generation);
      std::string line = status;
      if (!ro.status.message.empty()) line += " - " + ro.status.message;
      if (!current)
        line = "Progressing - waiting for the controller to observe generation " +
               std::to_string(ro.metadata.generation);
      if (line != lastLine) {
        io.out << line << "\n";
        io.out.flush();
        lastLine = line;
      }
      if (!current) return;
      if (status == "Healthy") exitCode = 0;
      if (status == "Degraded") exitCode = 1;
    };
    judge(*body);
    if (exitCode >= 0 || noWatch_) return exitCode < 0 ? 0 : exitCode;
    Status s = client->watch(
        "/api/v1/watch?events=false&kind=rollouts&namespace=" + flags_.namespace_ +
            "&name=" + name_,
        "",
        [&](const SseEvent& ev) {
          if (ev.event == "PUT") {
            auto j = nlohmann::json::parse(ev.data, nullptr, false);
            if (!j.is_discarded() && j.contains("object")) judge(j["object"].dump());
          } else if (ev.event == "DELETE") {
            io.err << "ramp: rollout " << name_ << " was deleted\n";
            exitCode = 1;
          } else if (ev.event == "ERROR") {
            io.err << "ramp: watch ended: " << ev.data << "\n";
            exitCode = 1;
          }
          return exitCode < 0;
        },
        deadline, clock);
    if (exitCode >= 0) return exitCode;
    if (!s && s.error().code == ErrorCode::kDeadlineExceeded) {
      io.err << "ramp: timed out waiting for rollout " << name_ << " to become Healthy\n";
      return kExitTimeout;
    }
    if (!s) return reportError(io, s.error());
    io.err << "ramp: the watch stream ended before the rollout became Healthy\n";
    return 1;
  }

 private:
  std::string name_, timeout_;
  bool noWatch_ = false;
  RemoteFlags flags_;
};

}  // namespace

VerbPtr makeGetVerb() { return std::make_unique<GetVerb>(); }
VerbPtr makeListVerb() { return std::make_unique<ListVerb>(); }
VerbPtr makeStatusVerb() { return std::make_unique<StatusVerb>(); }

}  // namespace ramp::cli
