// The verbs that change objects on a running server (each a recorded intent the controller
// carries out; the server refuses a token whose role is too low):
//   ramp apply -f FILE…                 (admin)   create or update; invalid specs print the lint
//                                                   errors and apply nothing
//   ramp delete KIND NAME               (admin)
//   ramp promote NAME [--full]          (operator)
//   ramp abort | retry | pause | resume | restart NAME
//   ramp undo NAME [--to-revision N]
//   ramp set image NAME CONTAINER=IMAGE
//   ramp terminate analysisrun NAME
// Request and response bodies are api/types.h's, shared with the server.

#include <fstream>
#include <iostream>
#include <ostream>
#include <sstream>

#include "api/types.h"
#include "cli/remote.h"

namespace ramp::cli {
namespace {

std::string lowerKind(const std::string& kind) {
  std::string s = kind;
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool readAll(const std::string& path, std::string* out) {
  std::ostringstream buf;
  if (path == "-") {
    buf << std::cin.rdbuf();
  } else {
    std::ifstream in(path, std::ios::binary);
    if (!in) return false;
    buf << in.rdbuf();
  }
  *out = buf.str();
  return true;
}

class ApplyVerb final : public Verb {
 public:
  std::string name() const override { return "apply"; }
  std::string summary() const override {
    return "Create or update objects on the server from manifests (every file checked before any "
           "is "
           "written)";
  }
  void configure(CLI::App& cmd) override {
    cmd.add_option("-f,--filename", files_, "Manifest file (YAML or JSON; '-' for stdin)")
        ->required();
    cmd.add_flag("--dry-run", dryRun_,
                 "Only check every file on the server (as kubectl's --dry-run=server); write "
                 "nothing");
    addRemoteFlags(cmd, flags_, true);
  }
  // Every file is read and checked by the server (a dry run) before any is written, so a bad
  // file in the list applies nothing; then each file is applied in its own transaction, and a
  // failure at that stage (the store changed meanwhile) is reported for its file, with the files
  // already applied named.
  int run(IoStreams& io) override {
    auto client = makeClient(io, flags_);
    if (!client) return 2;
    std::vector<std::string> texts;
    int rc = 0;
    for (const std::string& file : files_) {
      std::string text;
      if (!readAll(file, &text)) {
        io.err << "ramp: " << file << ": cannot read file\n";
        rc = 2;
      }
      texts.push_back(std::move(text));
    }
    if (rc != 0) {
      io.err << "ramp: nothing was applied\n";
      return rc;
    }
    for (size_t i = 0; i < files_.size(); ++i) {
      auto body = client->call("POST", "/api/v1/apply?dryRun=All", texts[i], "application/yaml");
      if (!body) {
        int code = reportError(io, inFile(body.error(), files_[i]));
        rc = rc == 0 ? code : rc;
        continue;
      }
      if (dryRun_) print(io, *body, " (dry run)");
    }
    if (rc != 0) {
      if (files_.size() > 1) io.err << "ramp: nothing was applied\n";
      return rc;
    }
    if (dryRun_) return 0;
    for (size_t i = 0; i < files_.size(); ++i) {
      auto body = client->call("POST", "/api/v1/apply", texts[i], "application/yaml");
      if (!body) {
        int code = reportError(io, inFile(body.error(), files_[i]));
        if (i > 0) {
          io.err << "ramp: applied before the failure:";
          for (size_t k = 0; k < i; ++k) io.err << " " << files_[k];
          io.err << "; not applied: " << files_[i];
          for (size_t k = i + 1; k < files_.size(); ++k) io.err << " " << files_[k];
          io.err << "\n";
        }
        return code;
      }
      print(io, *body, "");
    }
    return 0;
  }

 private:
  // Diagnostics name "request body": say which file they belong to.
  static Error inFile(Error e, const std::string& file) {
    size_t pos = 0;
    while ((pos = e.message.find("request body:", pos)) != std::string::npos) {
      e.message.replace(pos, 12, file);
      pos += file.size();
    }
    return e;
  }

  void print(IoStreams& io, const std::string& body, const char* suffix) {
    if (!flags_.output.empty()) {
      printStructured(io, flags_.output, body);
      return;
    }
    auto response = api::decodeApplyResponse(body);
    if (!response) {
      reportError(io, response.error());
      return;
    }
    for (const api::AppliedObject& o : response->objects) {
      io.out << lowerKind(o.kind) << ".argoproj.io/" << o.name << " " << o.result << suffix << "\n";
    }
  }

  std::vector<std::string> files_;
  bool dryRun_ = false;
  RemoteFlags flags_;
};

class DeleteVerb final : public Verb {
 public:
  std::string name() const override { return "delete"; }
  std::string summary() const override { return "Delete an object on the server"; }
  void configure(CLI::App& cmd) override {
    cmd.add_option("kind", kind_,
                   "rollout | analysisrun | analysistemplate | "
                   "clusteranalysistemplate")
        ->required();
    cmd.add_option("name", name_, "Object name")->required();
    cmd.add_option("--resource-version", resourceVersion_,
                   "Delete only if the object still has this resourceVersion");
    addRemoteFlags(cmd, flags_, false);
  }
  int run(IoStreams& io) override {
    const api::Resource* res = api::resourceByUserName(kind_);
    if (res == nullptr) {
      io.err << "ramp: unknown kind \"" << kind_ << "\"\n";
      return 2;
    }
    auto client = makeClient(io, flags_);
    if (!client) return 2;
    std::string path = api::objectPath(*res, res->clusterScoped ? "" : flags_.namespace_, name_);
    if (resourceVersion_ > 0) path += "?resourceVersion=" + std::to_string(resourceVersion_);
    auto body = client->call("DELETE", path);
    if (!body) return reportError(io, body.error());
    io.out << lowerKind(res->kindName) << ".argoproj.io/" << name_ << " deleted\n";
    return 0;
  }

 private:
  std::string kind_, name_;
  int64_t resourceVersion_ = 0;
  RemoteFlags flags_;
};

// One rollout action: POST …/rollouts/NAME/ACTION with an api::ActionRequest.
class ActionVerb final : public Verb {
 public:
  ActionVerb(api::Action action, std::string summary)
      : action_(action), summary_(std::move(summary)) {}
  std::string name() const override { return api::actionName(action_); }
  std::string summary() const override { return summary_; }
  void configure(CLI::App& cmd) override {
    cmd.add_option("name", name_, "Rollout name")->required();
    if (action_ == api::Action::kPromote) {
      cmd.add_flag("--full", request_.full, "Skip every remaining step, pause and analysis");
    }
    if (action_ == api::Action::kUndo) {
      cmd.add_option("--to-revision", toRevision_, "Revision to roll back to (default: previous)");
    }
    addRemoteFlags(cmd, flags_, true);
  }
  int run(IoStreams& io) override {
    if (toRevision_ > 0) request_.toRevision = toRevision_;
    return send(io, flags_, api::resourceOf(spec::Kind::kRollout), name_, action_, request_);
  }

  static int send(IoStreams& io, const RemoteFlags& flags, const api::Resource& res,
                  const std::string& name, api::Action action, const api::ActionRequest& request) {
    auto client = makeClient(io, flags);
    if (!client) return 2;
    std::string path = api::objectPath(res, flags.namespace_, name) + "/" + api::actionName(action);
    auto body = client->call("POST", path, api::encodeActionRequest(request));
    if (!body) return reportError(io, body.error());
    if (!flags.output.empty()) return printStructured(io, flags.output, *body);
    auto response = api::decodeActionResponse(*body);
    if (!response) return reportError(io, response.error());
    io.out << lowerKind(res.kindName) << " '" << name << "' " << response->message << "\n";
    return 0;
  }

 private:
  api::Action action_;
  std::string summary_;
  std::string name_;
  int64_t toRevision_ = 0;
  api::ActionRequest request_;
  RemoteFlags flags_;
};

class SetVerb final : public Verb {
 public:
  std::string name() const override { return "set"; }
  std::string summary() const override {
    return "Set a rollout's container image: set image NAME CONTAINER=IMAGE";
  }
  void configure(CLI::App& cmd) override {
    cmd.require_subcommand(1);
    CLI::App* image = cmd.add_subcommand("image", "Update a container's image (starts an update)");
    image->add_option("name", name_, "Rollout name")->required();
    image->add_option("assignment", assignment_, "CONTAINER=IMAGE (or *=IMAGE for every container)")
        ->required();
    addRemoteFlags(*image, flags_, true);
  }
  int run(IoStreams& io) override {
    size_t eq = assignment_.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == assignment_.size()) {
      io.err << "ramp: set image: expected CONTAINER=IMAGE, got \"" << assignment_ << "\"\n";
      return 2;
    }
    api::ActionRequest request;
    request.container = assignment_.substr(0, eq);
    request.image = assignment_.substr(eq + 1);
    return ActionVerb::send(io, flags_, api::resourceOf(spec::Kind::kRollout), name_,
                            api::Action::kSetImage, request);
  }

 private:
  std::string name_, assignment_;
  RemoteFlags flags_;
};

class TerminateVerb final : public Verb {
 public:
  std::string name() const override { return "terminate"; }
  std::string summary() const override {
    return "Terminate an AnalysisRun: terminate analysisrun NAME";
  }
  void configure(CLI::App& cmd) override {
    cmd.require_subcommand(1);
    CLI::App* run = cmd.add_subcommand("analysisrun", "Stop a running AnalysisRun");
    run->alias("ar");
    run->add_option("name", name_, "AnalysisRun name")->required();
    addRemoteFlags(*run, flags_, true);
  }
  int run(IoStreams& io) override {
    return ActionVerb::send(io, flags_, api::resourceOf(spec::Kind::kAnalysisRun), name_,
                            api::Action::kTerminate, {});
  }

 private:
  std::string name_;
  RemoteFlags flags_;
};

}  // namespace

VerbPtr makeApplyVerb() { return std::make_unique<ApplyVerb>(); }
VerbPtr makeDeleteVerb() { return std::make_unique<DeleteVerb>(); }
VerbPtr makeSetVerb() { return std::make_unique<SetVerb>(); }
VerbPtr makeTerminateVerb() { return std::make_unique<TerminateVerb>(); }
std::vector<VerbPtr> makeRolloutActionVerbs() {
  std::vector<VerbPtr> verbs;
  auto add = [&](api::Action a, const char* summary) {
    verbs.push_back(std::make_unique<ActionVerb>(a, summary));
  };
  add(api::Action::kPromote, "Promote a rollout to its next step (--full: skip every step)");
  add(api::Action::kAbort, "Abort a rollout's update (traffic back to stable)");
  add(api::Action::kRetry, "Retry an aborted rollout");
  add(api::Action::kUndo, "Roll a rollout back to an earlier revision");
  add(api::Action::kPause, "Pause a rollout");
  add(api::Action::kResume, "Resume a paused rollout");
  add(api::Action::kRestart, "Restart a rollout's replicas");
  return verbs;
}

}  // namespace ramp::cli
