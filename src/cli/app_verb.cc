// `ramp app`: Argo CD's application verbs on ramp's GitOps agent (docs/gitops.md), as argocd's:
//   ramp app list [-A]                     NAME SYNC HEALTH REVISION REPO PATH
//   ramp app get NAME                      source, status, conditions, objects, last operation
//   ramp app diff NAME                     the objects that differ from Git, naming fields;
//                                          exit 0 in sync, 1 out of sync, 2 unknown or error
//   ramp app history NAME                  ID DEPLOYED REVISION INITIATED-BY
//   ramp app sync NAME [--revision R] [--prune]   (operator) request a sync; sync windows apply
//                                          unless the caller is admin (recorded)
//   ramp app refresh NAME                  (operator) read the repository now
//   ramp app rollback NAME [ID] [--no-git] [--reason TEXT] [--prune]
//                                          (operator) back to history entry ID (default: the
//                                          previous one) by a pushed revert commit, or with
//                                          --no-git by syncing it as it is (auto-sync suspended)
// The bodies are api/types.h's and the status is spec::Application's, shared with the server.

#include <iomanip>
#include <sstream>

#include "api/types.h"
#include "cli/remote.h"
#include "spec/codec.h"
#include "spec/kinds.h"
#include "spec/values.h"

namespace ramp::cli {
namespace {

std::string shortSha(const std::string& sha) { return sha.substr(0, 7); }

Result<spec::Application> fetchApp(ApiClient& client, const RemoteFlags& flags,
                                   const std::string& name) {
  const api::Resource& res = api::resourceOf(spec::Kind::kApplication);
  auto body = client.call("GET", api::objectPath(res, flags.namespace_, name));
  if (!body) return std::unexpected(body.error());
  auto app = spec::applicationFromJson(*body, "server reply");
  if (!app.value) {
    return makeError(ErrorCode::kInternal, "the server's Application cannot be read");
  }
  return std::move(*app.value);
}

void printApp(IoStreams& io, const spec::Application& a) {
  const auto& s = a.spec.source;
  io.out << "Name:          " << a.metadata.namespace_ << "/" << a.metadata.name << "\n"
         << "Project:       " << (a.spec.project.empty() ? "default" : a.spec.project) << "\n"
         << "Repo:          " << s.repoURL << "\n"
         << "Path:          " << (s.path.empty() ? "." : s.path) << "\n"
         << "Target:        " << (s.targetRevision.empty() ? "HEAD" : s.targetRevision) << "\n"
         << "Namespace:     " << a.spec.destination.namespace_ << "\n"
         << "Sync Policy:   "
         << (a.spec.syncPolicy && a.spec.syncPolicy->automated
                 ? std::string("Automated") +
                       (a.spec.syncPolicy->automated->prune ? " (Prune)" : "") +
                       (a.spec.syncPolicy->automated->selfHeal ? " (SelfHeal)" : "")
                 : std::string("Manual"))
         << "\n"
         << "Sync Status:   " << (a.status.sync.status.empty() ? "Unknown" : a.status.sync.status)
         << (a.status.sync.revision.empty() ? "" : " to " + shortSha(a.status.sync.revision))
         << "\n"
         << "Health Status: "
         << (a.status.health.status.empty() ? "Unknown" : a.status.health.status)
         << (a.status.health.message.empty() ? "" : " (" + a.status.health.message + ")") << "\n";
  if (const auto& op = a.status.operationState) {
    io.out << "Last Sync:     " << op->phase << ": " << op->message << "\n";
  }
  for (const spec::ApplicationCondition& c : a.status.conditions) {
    io.out << "Condition:     " << c.type << ": " << c.message << "\n";
  }
  if (!a.status.resources.empty()) {
    io.out << "\nKIND        NAMESPACE    NAME                 STATUS     HEALTH       MESSAGE\n";
    for (const spec::ResourceStatus& r : a.status.resources) {
      io.out << std::left << std::setw(12) << r.kind << std::setw(13) << r.namespace_
             << std::setw(21) << r.name << std::setw(11) << r.status << std::setw(13)
             << (r.health ? r.health->status : "") << r.message << "\n";
    }
  }
}

class AppVerb final : public Verb {
 public:
  std::string name() const override { return "app"; }
  std::string summary() const override {
    return "Argo CD Applications run by ramp's GitOps agent: list, get, diff, history, sync, "
           "refresh, rollback";
  }
  void configure(CLI::App& cmd) override {
    cmd.require_subcommand(1);
    list_ = cmd.add_subcommand("list", "Applications with their sync and health status");
    list_->add_flag("-A,--all-namespaces", all_, "Every namespace");
    addRemoteFlags(*list_, flags_, true);
    get_ = named(cmd, "get", "An Application: source, status, conditions and objects", true);
    diff_ = named(cmd, "diff",
                  "What differs from Git, naming each field; exit 0 in sync, 1 out of sync, 2 "
                  "unknown or error",
                  false);
    history_ = named(cmd, "history", "The revisions synced, newest last", true);
    sync_ = named(cmd, "sync",
                  "Request a sync (operator); closed sync windows refuse it unless you are admin",
                  true);
    sync_->add_option("--revision", request_.revision,
                      "Branch, tag or commit (default: the Application's targetRevision)");
    sync_->add_flag("--prune", request_.prune, "Also delete objects that left Git");
    refresh_ = named(cmd, "refresh", "Read the repository now (operator)", true);
    rollback_ = named(cmd, "rollback",
                      "Go back to a history entry (operator): a revert commit is pushed to the "
                      "branch, so auto-sync keeps it; --no-git syncs the old revision as Argo CD "
                      "does and suspends auto-sync",
                      true);
    rollback_->add_option("id", historyId_, "History id (ramp app history; default: the previous)")
        ->check(CLI::PositiveNumber);
    rollback_->add_flag("--no-git", request_.noGit,
                        "Do not write to Git: sync the old revision, suspend auto-sync until the "
                        "next manual sync");
    rollback_->add_option("--reason", request_.reason,
                          "Why, for the revert commit's message and the record");
    rollback_->add_flag("--prune", request_.prune, "Also delete objects the old revision lacks");
  }

  int run(IoStreams& io) override {
    auto client = makeClient(io, flags_);
    if (!client) return 2;
    if (list_->parsed()) return runList(io, *client);
    if (sync_->parsed() || refresh_->parsed() || rollback_->parsed()) {
      return runAction(io, *client);
    }
    auto app = fetchApp(*client, flags_, name_);
    if (!app) {
      reportError(io, app.error());
      return 2;
    }
    if (diff_->parsed()) return runDiff(io, *app);
    if (!flags_.output.empty()) {
      return printStructured(io, flags_.output, spec::toJson(*app));
    }
    if (history_->parsed()) {
      io.out << "ID  DEPLOYED              REVISION  INITIATED BY\n";
      for (const spec::RevisionHistory& h : app->status.history) {
        io.out << std::left << std::setw(4) << h.id << std::setw(22)
               << (h.deployedAt ? spec::formatRfc3339(*h.deployedAt) : "") << std::setw(10)
               << shortSha(h.revision)
               << (h.initiatedBy.automated ? "automated" : h.initiatedBy.username) << "\n";
      }
      return 0;
    }
    printApp(io, *app);
    return 0;
  }

 private:
  CLI::App* named(CLI::App& cmd, const char* sub, const char* what, bool output) {
    CLI::App* c = cmd.add_subcommand(sub, what);
    c->add_option("name", name_, "Application name")->required();
    addRemoteFlags(*c, flags_, output);
    return c;
  }

  int runList(IoStreams& io, ApiClient& client) {
    const api::Resource& res = api::resourceOf(spec::Kind::kApplication);
    auto body = client.call("GET", api::collectionPath(res, all_ ? "" : flags_.namespace_));
    if (!body) return reportError(io, body.error());
    if (!flags_.output.empty()) return printStructured(io, flags_.output, *body);
    auto list = api::decodeObjectList(*body);
    if (!list) return reportError(io, list.error());
    io.out << "NAME                     SYNC       HEALTH       REVISION  REPO / PATH\n";
    for (const std::string& item : list->items) {
      auto app = spec::applicationFromJson(item, "server reply");
      if (!app.value) continue;
      const spec::Application& a = *app.value;
      io.out << std::left << std::setw(25)
             << (all_ ? a.metadata.namespace_ + "/" : "") + a.metadata.name << std::setw(11)
             << (a.status.sync.status.empty() ? "Unknown" : a.status.sync.status) << std::setw(13)
             << (a.status.health.status.empty() ? "Unknown" : a.status.health.status)
             << std::setw(10) << shortSha(a.status.sync.revision) << a.spec.source.repoURL << " "
             << (a.spec.source.path.empty() ? "." : a.spec.source.path) << "\n";
    }
    return 0;
  }

  // argocd app diff: 0 no difference, 1 differences, 2 the comparison could not be made.
  int runDiff(IoStreams& io, const spec::Application& a) {
    if (a.status.sync.status != "Synced" && a.status.sync.status != "OutOfSync") {
      io.err << "ramp: " << a.metadata.name << " cannot be compared with Git";
      for (const spec::ApplicationCondition& c : a.status.conditions) {
        io.err << "\n  " << c.type << ": " << c.message;
      }
      io.err << "\n";
      return 2;
    }
    bool differs = false;
    for (const spec::ResourceStatus& r : a.status.resources) {
      if (r.status != "OutOfSync") continue;
      differs = true;
      io.out << "===== " << r.kind << " " << r.namespace_ << "/" << r.name << " =====\n"
             << r.message << "\n";
    }
    return differs ? 1 : 0;
  }

  int runAction(IoStreams& io, ApiClient& client) {
    const api::Resource& res = api::resourceOf(spec::Kind::kApplication);
    const api::Action action = sync_->parsed()       ? api::Action::kSync
                               : rollback_->parsed() ? api::Action::kRollback
                                                     : api::Action::kRefresh;
    if (historyId_ > 0) request_.id = historyId_;
    const std::string path =
        api::objectPath(res, flags_.namespace_, name_) + "/" + api::actionName(action);
    auto body = client.call("POST", path, api::encodeActionRequest(request_));
    if (!body) return reportError(io, body.error());
    if (!flags_.output.empty()) return printStructured(io, flags_.output, *body);
    auto response = api::decodeActionResponse(*body);
    if (!response) return reportError(io, response.error());
    io.out << "application '" << name_ << "' " << response->message << "\n";
    return 0;
  }

  CLI::App *list_ = nullptr, *get_ = nullptr, *diff_ = nullptr, *history_ = nullptr,
           *sync_ = nullptr, *refresh_ = nullptr, *rollback_ = nullptr;
  bool all_ = false;
  int64_t historyId_ = 0;
  std::string name_;
  api::ActionRequest request_;
  RemoteFlags flags_;
};

}  // namespace

VerbPtr makeAppVerb() { return std::make_unique<AppVerb>(); }

}  // namespace ramp::cli
