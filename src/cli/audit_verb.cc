// `ramp audit keygen|verify|show|export`: the audit log (docs/audit.md) read from a data
// directory (--data-dir, the daemon's SQLite file, even while it runs) or from a server
// (--server, GET /api/v1/audit/…, role auditor). Verification always runs here, on the rows as
// read (audit/verify.h): a server is not trusted to check itself.
//
//   keygen --out PATH       a new ECDSA P-256 key: PATH (private, mode 0600) and PATH.pub
//   verify [--public-key P] exit 0 when every record and checkpoint holds and is signed by the
//                           key; 1 naming the first bad record; 3 when the log is consistent but
//                           unsigned (or no key was available to check it); 2 when it cannot
//                           be read
//   show [ROLLOUT] [--rollout R] [--digest D] [--since T] [--action A,B] [--decision D,E]
//        [--environment E]
//        [-o text|json]
//                           the records that match every filter given (audit/query.h): when,
//                           who, what, why, the evidence; json: the signed statements
//   export                  JSON lines: the newest checkpoint, then every record's envelope
//                           with its inclusion proof

#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <ostream>

#include "api/types.h"
#include "audit/audited_store.h"
#include "audit/dsse.h"
#include "audit/key_file.h"
#include "audit/query.h"
#include "audit/statement.h"
#include "audit/verify.h"
#include "cli/remote.h"
#include "common/file_io.h"
#include "spec/values.h"
#include "store/sqlite/sqlite_state_store.h"

namespace ramp::cli {
namespace {

// Where the log is read from: a data directory or a server.
struct Source {
  std::string dataDir;
  RemoteFlags remote;
};

Result<std::unique_ptr<store::SqliteStateStore>> openDataDir(const std::string& dir) {
  const std::string file = dir + "/ramp.db";
  if (!std::filesystem::exists(file)) {
    return makeError(ErrorCode::kNotFound,
                     "--data-dir " + dir + ": no ramp database (" + file + " does not exist)");
  }
  return store::SqliteStateStore::open(file);
}

// Every record (of one object, when given) and checkpoint, from the source.
Result<audit::LogContents> readSource(IoStreams& io, const Source& source,
                                      const std::optional<store::ObjectKey>& object) {
  if (!source.dataDir.empty()) {
    auto db = openDataDir(source.dataDir);
    if (!db) return std::unexpected(db.error());
    return audit::readLog(**db, object);
  }
  auto client = makeClient(io, source.remote);
  if (!client) return makeError(ErrorCode::kInvalidArgument, "no server to read from");
  audit::LogContents out;
  auto cps = client->call("GET", std::string(api::kApiPrefix) + "/audit/checkpoints");
  if (!cps) return std::unexpected(cps.error());
  auto decoded = api::decodeAuditCheckpoints(*cps);
  if (!decoded) return std::unexpected(decoded.error());
  out.checkpoints = std::move(*decoded);
  std::string filter;
  if (object) {
    filter = "&kind=" + object->kind + "&namespace=" + object->namespace_ + "&name=" + object->name;
  }
  for (int64_t from = 0;;) {
    auto body = client->call("GET", std::string(api::kApiPrefix) + "/audit/records?from=" +
                                        std::to_string(from) + "&limit=1000" + filter);
    if (!body) return std::unexpected(body.error());
    auto page = api::decodeAuditRecords(*body);
    if (!page) return std::unexpected(page.error());
    if (page->records.empty()) return out;
    from = page->records.back().index + 1;
    std::move(page->records.begin(), page->records.end(), std::back_inserter(out.records));
  }
}

void addSourceFlags(CLI::App& cmd, Source& source) {
  cmd.add_option("--data-dir", source.dataDir,
                 "Read the log from this data directory (ramp serve --data) instead of a server");
  addRemoteFlags(cmd, source.remote, false);
}

class AuditVerb final : public Verb {
 public:
  std::string name() const override { return "audit"; }
  std::string summary() const override {
    return "Verify, show or export the signed log of every decision (keygen makes its key)";
  }
  void configure(CLI::App& cmd) override {
    cmd.require_subcommand(1);
    keygen_ = cmd.add_subcommand("keygen", "Write a new ECDSA P-256 signing key and its .pub");
    keygen_->add_option("--out", keyOut_, "Private key file to create (PATH.pub gets the public)")
        ->required();
    verify_ = cmd.add_subcommand("verify", "Check every record and checkpoint of the log");
    addSourceFlags(*verify_, verifySource_);
    verify_->add_option("--public-key", publicKey_,
                        "The key the log must be signed by (PEM); default: the daemon's");
    show_ = cmd.add_subcommand("show", "Print the decision records that match the filters");
    show_->add_option("rollout", rollout_, "Rollout name (as --rollout)");
    show_->add_option("--rollout", rolloutFlag_, "Only this rollout's records");
    show_->add_option("--digest", digest_,
                      "Only records about this artifact digest (sha256:…, or IMAGE@sha256:…)");
    show_->add_option("--since", since_,
                      "Only records at or after this time (RFC 3339) or this long ago (2h)");
    show_
        ->add_option("--action", actions_,
                     "Only records of these actions (promote, abort, analysis-verdict, …)")
        ->delimiter(',');
    show_
        ->add_option("--decision", decisions_,
                     "Only records of these decisions (rollback, forward-fix, deploy, promote, "
                     "fail, deny, …)")
        ->delimiter(',');
    show_->add_option("--environment", environment_,
                      "Only records of decisions in this environment (ramp serve --environment)");
    show_->add_option("-o,--output", output_, "text (default) or json")
        ->check(CLI::IsMember({"text", "json"}));
    addSourceFlags(*show_, showSource_);
    export_ = cmd.add_subcommand(
        "export", "Print the log as JSON lines with inclusion proofs (docs/audit.md)");
    addSourceFlags(*export_, exportSource_);
  }

  int run(IoStreams& io) override {
    if (keygen_->parsed()) return keygen(io);
    if (verify_->parsed()) return verify(io);
    if (show_->parsed()) return show(io);
    return exportLog(io);
  }

 private:
  int fail(IoStreams& io, const Error& e) {
    io.err << "ramp audit: " << e.message << "\n";
    return 2;
  }

  int keygen(IoStreams& io) {
    auto key = audit::createKeyFile(keyOut_);
    if (!key) return fail(io, key.error());
    io.out << "wrote " << keyOut_ << " (private, mode 0600: ramp serve --audit-key " << keyOut_
           << ") and " << keyOut_ << ".pub (public, key id "
           << key->publicKey().keyId().substr(0, 16) << ")\n";
    return 0;
  }

  // The key to verify with: --public-key, else the daemon's (DATA/audit-key.pub or the API).
  Result<std::optional<audit::VerifyingKey>> verifyingKey(IoStreams& io) {
    std::string pem, from;
    if (!publicKey_.empty()) {
      auto text = readFileIfExists(publicKey_);
      if (!text) return std::unexpected(text.error());
      if (!*text)
        return makeError(ErrorCode::kNotFound, "--public-key " + publicKey_ + ": no such file");
      pem = **text;
      from = publicKey_;
    } else if (!verifySource_.dataDir.empty()) {
      from = verifySource_.dataDir + "/audit-key.pub";
      auto text = readFileIfExists(from);
      if (!text) return std::unexpected(text.error());
      if (*text) pem = **text;
    } else {
      auto client = makeClient(io, verifySource_.remote);
      if (!client) return makeError(ErrorCode::kInvalidArgument, "no server to read from");
      auto body = client->call("GET", std::string(api::kApiPrefix) + "/audit/key");
      if (!body) return std::unexpected(body.error());
      auto view = api::decodeAuditKey(*body);
      if (!view) return std::unexpected(view.error());
      pem = view->publicKey;
      from = "the server";
    }
    if (pem.empty()) return std::nullopt;
    auto key = audit::VerifyingKey::fromPem(pem);
    if (!key) return makeError(key.error().code, from + ": " + key.error().message);
    io.out << "key " << key->keyId().substr(0, 16) << " from " << from;
    if (publicKey_.empty())
      io.out << " (pin it with --public-key: a rewritten log could bring its own)";
    io.out << "\n";
    return std::optional(std::move(*key));
  }

  int verify(IoStreams& io) {
    auto key = verifyingKey(io);
    if (!key) return fail(io, key.error());
    auto log = readSource(io, verifySource_, std::nullopt);
    if (!log) return fail(io, log.error());
    audit::VerifyReport r =
        audit::verifyLog(log->records, log->checkpoints, *key ? &**key : nullptr);
    io.out << audit::describeReport(r) << "\n";
    if (!r.ok()) return 1;
    return r.signatures ? 0 : 3;
  }

  // The query of `show`'s flags. Errors: kInvalidArgument naming the flag.
  Result<audit::DecisionQuery> showQuery() {
    if (!rollout_.empty() && !rolloutFlag_.empty() && rollout_ != rolloutFlag_) {
      return makeError(ErrorCode::kInvalidArgument,
                       "two rollouts given: " + rollout_ + " and --rollout " + rolloutFlag_);
    }
    audit::DecisionQuery q;
    const std::string& name = rollout_.empty() ? rolloutFlag_ : rollout_;
    if (!name.empty()) q.object = store::ObjectKey{"Rollout", showSource_.remote.namespace_, name};
    if (!digest_.empty()) {
      auto d = audit::parseDigestFilter(digest_);
      if (!d) return std::unexpected(d.error());
      q.digest = *d;
    }
    if (!since_.empty()) {
      auto t = audit::parseSinceFilter(since_, realClock().now());
      if (!t) return std::unexpected(t.error());
      q.since = *t;
    }
    q.actions = actions_;
    q.environment = environment_;
    q.decisions = decisions_;
    return q;
  }

  int show(IoStreams& io) {
    auto q = showQuery();
    if (!q) return fail(io, q.error());
    auto log = readSource(io, showSource_, q->object);
    if (!log) return fail(io, log.error());
    const bool json = output_ == "json";
    nlohmann::json out = nlohmann::json::array();
    if (!json) {
      io.out << "decision records";
      if (q->object) io.out << " of Rollout " << q->object->namespace_ << "/" << q->object->name;
      if (!q->digest.empty()) io.out << " about sha256:" << q->digest;
      if (q->since) io.out << " since " << spec::formatRfc3339(*q->since);
      for (size_t i = 0; i < q->actions.size(); ++i)
        io.out << (i == 0 ? " of action " : " or ") << q->actions[i];
      for (size_t i = 0; i < q->decisions.size(); ++i)
        io.out << (i == 0 ? " deciding " : " or ") << q->decisions[i];
      if (!q->environment.empty()) io.out << " in " << q->environment;
      io.out << " (ramp audit verify checks them)\n";
    }
    size_t shown = 0;
    for (const store::AuditRecord& r : log->records) {
      auto envelope = audit::decodeEnvelope(r.entry);
      auto d = envelope ? audit::decodeDecision(envelope->payload)
                        : Result<audit::Decision>(std::unexpected(envelope.error()));
      if (!d) {  // never hidden by a filter: an unreadable record is itself evidence
        if (json) {
          out.push_back({{"index", r.index}, {"error", d.error().message}});
        } else {
          io.out << "#" << r.index << "  unreadable: " << d.error().message << "\n";
        }
        continue;
      }
      if (!audit::matchesQuery(*d, *q)) continue;
      ++shown;
      if (json) {
        out.push_back({{"index", r.index},
                       {"signatures", envelope->signatures.size()},
                       {"statement", nlohmann::json::parse(envelope->payload)}});
      } else {
        printDecision(io, *d, envelope->signatures.empty());
      }
    }
    if (json) {
      io.out << out.dump(2) << "\n";
    } else if (shown == 0) {
      io.out << "  none\n";
    }
    return 0;
  }

  static void printDecision(IoStreams& io, const audit::Decision& d, bool unsigned_) {
    io.out << "#" << d.index << "  " << d.time << "  " << d.object.kind << "/" << d.object.name
           << "  " << d.action << " by " << d.actorId << " (" << d.actorKind
           << (d.actorOrigin.empty() || d.actorOrigin == d.actorKind ? "" : ", " + d.actorOrigin)
           << ")" << (d.environment.empty() ? "" : " in " + d.environment) << "  " << d.reason
           << (d.decision.empty() ? "" : " (" + d.decision + ")")
           << (d.outcome == "Warning" ? " [Warning]" : "") << (unsigned_ ? "  UNSIGNED" : "")
           << "\n";
    if (!d.message.empty()) io.out << "    why: " << d.message << "\n";
    if (!d.change.empty()) io.out << "    change: " << describeChange(d.change) << "\n";
    if (!d.evidence.empty()) io.out << "    evidence: " << d.evidence << "\n";
    if (!d.previousImages.empty()) {
      std::string previous;
      for (const std::string& image : d.previousImages) {
        previous += (previous.empty() ? "image " : ", image ") + image;
      }
      io.out << "    previous: " << previous << "\n";
    }
    std::string revision;
    if (d.generation) revision += "generation " + std::to_string(*d.generation);
    if (!d.podTemplateHash.empty()) revision += ", pod template " + d.podTemplateHash;
    for (const std::string& image : d.images) revision += ", image " + image;
    if (!revision.empty()) io.out << "    revision: " << revision << "\n";
  }

  // "REPO@SHA7 PATH, pull request 42 approved by A, B; author X: subject" from a change record
  // (gitops/change.h).
  static std::string describeChange(const std::string& json) {
    auto c = nlohmann::json::parse(json, nullptr, false);
    if (!c.is_object()) return json;
    auto str = [&](const char* k) {
      return c.contains(k) && c[k].is_string() ? c[k].get<std::string>() : "";
    };
    std::string out = str("repo") + "@" + str("revision").substr(0, 7);
    if (!str("path").empty()) out += " " + str("path");
    if (!str("application").empty()) out += " (Application " + str("application") + ")";
    if (!str("pullRequest").empty()) out += ", pull request " + str("pullRequest");
    if (c.contains("approvers") && c["approvers"].is_array() && !c["approvers"].empty()) {
      out += " approved by ";
      for (size_t i = 0; i < c["approvers"].size(); ++i) {
        if (c["approvers"][i].is_string()) {
          out += (i ? ", " : "") + c["approvers"][i].get<std::string>();
        }
      }
    }
    if (!str("author").empty()) out += "; author " + str("author");
    if (!str("subject").empty()) out += ": " + str("subject");
    if (!str("syncWindowOverride").empty()) {
      out += "; sync window overridden by " + str("syncWindowOverride");
    }
    return out;
  }

  int exportLog(IoStreams& io) {
    auto log = readSource(io, exportSource_, std::nullopt);
    if (!log) return fail(io, log.error());
    auto text = audit::exportLog(log->records, log->checkpoints);
    if (!text) return fail(io, text.error());
    io.out << *text;
    return 0;
  }

  CLI::App* keygen_ = nullptr;
  CLI::App* verify_ = nullptr;
  CLI::App* show_ = nullptr;
  CLI::App* export_ = nullptr;
  std::string keyOut_, publicKey_, rollout_, rolloutFlag_, digest_, since_;
  std::vector<std::string> actions_;
  std::string environment_;
  std::vector<std::string> decisions_;
  std::string output_ = "text";
  Source verifySource_, showSource_, exportSource_;
};

}  // namespace

VerbPtr makeAuditVerb() { return std::make_unique<AuditVerb>(); }

}  // namespace ramp::cli
