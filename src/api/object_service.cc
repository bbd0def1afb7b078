#include "api/object_service.h"

#include <openssl/rand.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <variant>

#include "gitops/operations.h"
#include "rollout/operations.h"
#include "spec/codec.h"
#include "spec/validation.h"

namespace ramp::api {
namespace {

using nlohmann::json;

constexpr int kWriteAttempts = 8;

std::string newUid() {
  unsigned char b[16];
  if (RAND_bytes(b, sizeof b) != 1) {
    for (unsigned char& c : b) c = static_cast<unsigned char>(std::rand());
  }
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);
  char out[37];
  std::snprintf(out, sizeof out,
                "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
                b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
                b[15]);
  return out;
}

std::string randomSuffix() {
  static const char kChars[] = "bcdfghjklmnpqrstvwxz2456789";
  unsigned char b[5];
  if (RAND_bytes(b, sizeof b) != 1) {
    for (unsigned char& c : b) c = static_cast<unsigned char>(std::rand());
  }
  std::string s;
  for (unsigned char c : b) s += kChars[c % (sizeof(kChars) - 1)];
  return s;
}

spec::ObjectMeta& mutableMeta(spec::Object& o) {
  return std::visit([](auto& x) -> spec::ObjectMeta& { return x.metadata; }, o);
}

// The object as the store keeps it: metadata.resourceVersion is the store's version and is not
// stored in the text.
std::string storedJson(spec::Object o) {
  mutableMeta(o).resourceVersion.clear();
  return spec::toJson(o);
}

bool sameSpec(const spec::Object& a, const spec::Object& b) {
  if (a.index() != b.index()) return false;
  return std::visit(
      [&](const auto& x) {
        const auto& y = std::get<std::decay_t<decltype(x)>>(b);
        return x.spec == y.spec;
      },
      a);
}

// Copies what the server owns (status, uid, creationTimestamp, generation) from `old` into
// `next`.
void carryOver(spec::Object& next, const spec::Object& old) {
  std::visit(
      [&](auto& n) {
        const auto& o = std::get<std::decay_t<decltype(n)>>(old);
        if constexpr (requires { n.status; }) n.status = o.status;
        n.metadata.uid = o.metadata.uid;
        n.metadata.creationTimestamp = o.metadata.creationTimestamp;
        n.metadata.generation = o.metadata.generation;
      },
      next);
}

void clearStatus(spec::Object& o) {
  std::visit(
      [](auto& x) {
        if constexpr (requires { x.status; }) x.status = {};
      },
      o);
}

store::Event makeEvent(const store::ObjectKey& key, Time now, std::string reason,
                       std::string message, const json& evidence, const Identity& caller) {
  store::Event e;
  e.time = now;
  e.object = key;
  e.type = store::EventType::kNormal;
  e.reason = std::move(reason);
  e.message = std::move(message);
  e.evidence = evidence.dump();
  e.actor = caller.name;
  e.origin = caller.origin;
  e.change = caller.change;
  return e;
}

bool retryable(const Error& e) {
  return e.code == ErrorCode::kConflict || e.code == ErrorCode::kAlreadyExists;
}

Error storeError(const Error& e) {
  if (e.code == ErrorCode::kNotFound || e.code == ErrorCode::kConflict ||
      e.code == ErrorCode::kAlreadyExists || e.code == ErrorCode::kInvalidArgument) {
    return e;
  }
  return Error{e.code == ErrorCode::kInternal ? ErrorCode::kInternal : ErrorCode::kUnavailable,
               "state store: " + e.message};
}

store::ObjectKey keyOf(const Route& route) {
  return {route.resource->kindName, route.resource->clusterScoped ? "" : route.namespace_,
          route.name};
}

std::string describe(const store::ObjectKey& key) {
  if (key.namespace_.empty()) return key.kind + " " + key.name;
  return key.kind + " " + key.namespace_ + "/" + key.name;
}

}  // namespace

ObjectService::ObjectService(store::StateStore& store, Clock& clock, RevisionsFn revisions,
                             RunChecks checks, ReplicasFn replicas, ReadLogFn readLog)
    : store_(store),
      clock_(clock),
      revisions_(std::move(revisions)),
      checks_(std::move(checks)),
      replicas_(std::move(replicas)),
      readLog_(std::move(readLog)) {}

Result<std::vector<spec::Diagnostic>> ObjectService::checkRun(const spec::LintResult& lint,
                                                              Time now) {
  std::vector<spec::Diagnostic> out;
  if (checks_.registry == nullptr) return out;
  const Registry& registry = *checks_.registry;
  // The claims of the documents' Rollouts, and when each was created: a Rollout being created is
  // the newest; one being updated keeps its stored creation time.
  std::vector<std::string> keys(lint.documents.size());
  std::vector<std::vector<ClaimHolder>> mine(lint.documents.size());
  bool anyClaims = false;
  for (size_t i = 0; i < lint.documents.size(); ++i) {
    const auto* rollout = std::get_if<spec::Rollout>(&lint.documents[i].object);
    if (rollout == nullptr) continue;
    const std::string ns = rollout->metadata.namespace_.empty() ? std::string(kDefaultNamespace)
                                                                : rollout->metadata.namespace_;
    keys[i] = ns + "/" + rollout->metadata.name;
    mine[i] = registry.claimsOf(keys[i], *rollout);
    if (mine[i].empty()) continue;
    anyClaims = true;
    Time created = now + Duration(static_cast<int64_t>(i));
    auto current = store_.get({"Rollout", ns, rollout->metadata.name});
    if (!current && current.error().code != ErrorCode::kNotFound) {
      return std::unexpected(storeError(current.error()));
    }
    if (current) {
      auto decoded = spec::rolloutFromJson(current->json, current->key.toString());
      if (decoded.value && decoded.value->metadata.creationTimestamp) {
        created = *decoded.value->metadata.creationTimestamp;
      }
    }
    for (ClaimHolder& c : mine[i]) c.createdAt = created;
  }
  // The claims of the stored Rollouts: only those that name a claiming router are decoded.
  std::vector<ClaimHolder> others;
  if (anyClaims) {
    auto all = store_.list("Rollout", "");
    if (!all) return std::unexpected(storeError(all.error()));
    const std::vector<std::string> plugins = registry.claimingPlugins();
    for (const store::StoredObject& o : all->items) {
      const bool names = std::any_of(plugins.begin(), plugins.end(), [&](const std::string& p) {
        return o.json.find("\"" + p + "\"") != std::string::npos;
      });
      if (!names) continue;
      auto decoded = spec::rolloutFromJson(o.json, o.key.toString());
      if (!decoded.value) continue;
      for (ClaimHolder& c :
           registry.claimsOf(o.key.namespace_ + "/" + o.key.name, *decoded.value)) {
        others.push_back(std::move(c));
      }
    }
  }
  for (size_t i = 0; i < lint.documents.size(); ++i) {
    const spec::Document& doc = lint.documents[i];
    const auto* rollout = std::get_if<spec::Rollout>(&doc.object);
    if (rollout == nullptr) continue;
    std::vector<spec::Diagnostic> ds = registry.checkRollout(*rollout, checks_.platform);
    for (spec::Diagnostic& d : claimConflicts(mine[i], others)) ds.push_back(std::move(d));
    // Later documents of the body see this one's claims in place of its stored ones.
    std::erase_if(others, [&](const ClaimHolder& c) { return c.rolloutKey == keys[i]; });
    others.insert(others.end(), mine[i].begin(), mine[i].end());
    spec::locate(ds, doc);
    for (spec::Diagnostic& d : ds) out.push_back(std::move(d));
  }
  return out;
}

ApiReply ObjectService::error(int status, ErrorCode code, std::string message,
                              std::vector<spec::Diagnostic> diagnostics) {
  ApiErrorBody body;
  body.status = status;
  body.reason = std::string(errorCodeName(code));
  body.message = std::move(message);
  body.diagnostics = std::move(diagnostics);
  return ApiReply{status, encodeError(body)};
}

ApiReply ObjectService::error(const Error& e) {
  return error(httpStatusFor(e.code), e.code, e.message);
}

ApiReply ObjectService::apply(const Identity& caller, std::string_view body, bool dryRun) {
  return applyText(caller, body, nullptr, dryRun);
}

ApiReply ObjectService::applyRevision(const Identity& caller, std::string_view body,
                                      const std::vector<store::ObjectKey>& prune) {
  return applyText(caller, body, nullptr, false, prune);
}

ApiReply ObjectService::put(const Identity& caller, const Route& route, std::string_view body) {
  return applyText(caller, body, &route, false);
}

ApiReply ObjectService::applyText(const Identity& caller, std::string_view body, const Route* route,
                                  bool dryRun, const std::vector<store::ObjectKey>& prune) {
  spec::LintResult lint = spec::lintText(body, "request body");
  if (!lint.unreadable && !spec::hasErrors(lint.diagnostics)) {
    auto run = checkRun(lint, clock_.now());
    if (!run) return error(run.error());
    for (spec::Diagnostic& d : *run) lint.diagnostics.push_back(std::move(d));
  }
  std::vector<spec::Diagnostic> errors;
  std::vector<spec::Diagnostic> remarks;  // warnings and notes (skipped documents)
  for (const spec::Diagnostic& d : lint.diagnostics) {
    (d.severity == spec::Severity::kError ? errors : remarks).push_back(d);
  }
  if (lint.unreadable || !errors.empty()) {
    size_t n = errors.size();
    std::string msg = lint.unreadable
                          ? "the manifest cannot be read as YAML or JSON"
                          : "the manifest is invalid: " + std::to_string(n) +
                                (n == 1 ? " error" : " errors") + "; nothing was applied";
    return error(400, ErrorCode::kInvalidArgument, msg, std::move(errors));
  }
  if (lint.documents.empty() && prune.empty()) {
    return error(400, ErrorCode::kInvalidArgument,
                 "no Rollout, AnalysisTemplate, ClusterAnalysisTemplate or AnalysisRun in the "
                 "request body",
                 std::move(remarks));
  }
  if (route != nullptr && lint.documents.size() != 1) {
    return error(400, ErrorCode::kInvalidArgument, "PUT takes exactly one object");
  }

  // Names, namespaces and keys: fixed once, before the write attempts.
  std::vector<spec::Object> objects;
  std::vector<store::ObjectKey> keys;
  std::vector<std::optional<int64_t>> expected;  // caller's metadata.resourceVersion
  std::set<store::ObjectKey> seen;
  for (size_t i = 0; i < lint.documents.size(); ++i) {
    spec::Object o = lint.documents[i].object;
    spec::ObjectMeta& meta = mutableMeta(o);
    const Resource& res = resourceOf(spec::kindOf(o));
    std::string where = "object " + std::to_string(i + 1) + " (" + res.kindName + "): ";
    if (meta.name.empty() && !meta.generateName.empty()) {
      meta.name = meta.generateName + randomSuffix();
    }
    if (auto s = checkName(meta.name, "metadata.name"); !s) {
      return error(400, ErrorCode::kInvalidArgument, where + s.error().message);
    }
    if (res.clusterScoped) {
      meta.namespace_.clear();
    } else {
      if (meta.namespace_.empty()) meta.namespace_ = std::string(kDefaultNamespace);
      if (auto s = checkNamespace(meta.namespace_); !s) {
        return error(400, ErrorCode::kInvalidArgument, where + "metadata." + s.error().message);
      }
    }
    store::ObjectKey key{res.kindName, meta.namespace_, meta.name};
    if (route != nullptr && key != keyOf(*route)) {
      return error(
          400, ErrorCode::kInvalidArgument,
          "the body is " + describe(key) + " but the path names " + describe(keyOf(*route)));
    }
    if (!seen.insert(key).second) {
      return error(400, ErrorCode::kInvalidArgument, describe(key) + " appears twice in the body");
    }
    std::optional<int64_t> rv;
    if (!meta.resourceVersion.empty()) {
      rv = parseNonNegative(meta.resourceVersion);
      if (!rv || *rv == 0) {
        return error(400, ErrorCode::kInvalidArgument,
                     where + "metadata.resourceVersion must be a positive integer");
      }
    }
    meta.resourceVersion.clear();
    objects.push_back(std::move(o));
    keys.push_back(std::move(key));
    expected.push_back(rv);
  }

  for (int attempt = 0; attempt < kWriteAttempts; ++attempt) {
    std::vector<store::WriteOp> ops;
    std::vector<store::Event> events;
    std::vector<size_t> opIndex;  // object index of each op
    ApplyResponse response;
    for (const spec::Diagnostic& d : remarks) response.warnings.push_back(formatDiagnostic(d));
    Time now = clock_.now();
    for (size_t i = 0; i < objects.size(); ++i) {
      spec::Object next = objects[i];
      const store::ObjectKey& key = keys[i];
      AppliedObject applied{key.kind, key.namespace_, key.name, "", 0, 0};
      auto current = store_.get(key);
      if (!current && current.error().code != ErrorCode::kNotFound) {
        return error(storeError(current.error()));
      }
      if (current) {
        if (expected[i] && *expected[i] != current->version) {
          return error(409, ErrorCode::kConflict,
                       describe(key) + " has resourceVersion " + std::to_string(current->version) +
                           ", not " + std::to_string(*expected[i]) +
                           ": it changed since you read it; get it again and re-apply");
        }
        spec::Decoded<spec::Object> old = spec::objectFromJson(current->json, key.toString());
        if (!old.value || old.value->index() != next.index()) {
          return error(
              500, ErrorCode::kInternal,
              "the stored " + describe(key) + " cannot be decoded; delete and re-create it");
        }
        const spec::ObjectMeta& oldMeta = spec::metadataOf(*old.value);
        bool specChanged = !sameSpec(next, *old.value);
        carryOver(next, *old.value);
        spec::ObjectMeta& meta = mutableMeta(next);
        if (specChanged) meta.generation = oldMeta.generation + 1;
        if (!specChanged && meta.labels == oldMeta.labels &&
            meta.annotations == oldMeta.annotations && meta.generateName == oldMeta.generateName) {
          applied.result = "unchanged";
          applied.resourceVersion = current->version;
          applied.generation = oldMeta.generation;
          response.objects.push_back(applied);
          continue;
        }
        applied.result = "configured";
        applied.generation = meta.generation;
        ops.push_back({store::WriteOp::Type::kPut, key, storedJson(next), current->version});
      } else {
        if (expected[i]) {
          return error(409, ErrorCode::kConflict,
                       describe(key) +
                           " does not exist (it may have been deleted): remove "
                           "metadata.resourceVersion to create it");
        }
        clearStatus(next);
        spec::ObjectMeta& meta = mutableMeta(next);
        meta.uid = newUid();
        meta.creationTimestamp = now;
        meta.generation = 1;
        applied.result = "created";
        applied.generation = 1;
        ops.push_back({store::WriteOp::Type::kPut, key, storedJson(next), 0});
      }
      json evidence = {{"result", applied.result}, {"generation", applied.generation}};
      events.push_back(makeEvent(key, now, "SpecApplied",
                                 describe(key) + " " + applied.result + " by " + caller.name,
                                 evidence, caller));
      opIndex.push_back(response.objects.size());
      response.objects.push_back(applied);
    }
    for (const store::ObjectKey& key : prune) {
      auto current = store_.get(key);
      if (!current && current.error().code == ErrorCode::kNotFound) continue;
      if (!current) return error(storeError(current.error()));
      ops.push_back({store::WriteOp::Type::kDelete, key, "", current->version});
      events.push_back(makeEvent(key, now, "ObjectDeleted",
                                 describe(key) + " pruned by " + caller.name,
                                 json{{"resourceVersion", current->version}}, caller));
    }
    if (!ops.empty() && !dryRun) {
      auto written = store_.writeWithEvents(ops, events);
      if (!written) {
        if (retryable(written.error())) continue;
        return error(storeError(written.error()));
      }
      for (size_t k = 0; k < opIndex.size(); ++k) {
        response.objects[opIndex[k]].resourceVersion = written->versions[k];
      }
    }
    bool created = false;
    for (const AppliedObject& o : response.objects) created = created || o.result == "created";
    return ApiReply{created ? 201 : 200, encodeApplyResponse(response)};
  }
  return error(409, ErrorCode::kConflict,
               "the objects kept changing while being applied (" + std::to_string(kWriteAttempts) +
                   " attempts); try again");
}

ApiReply ObjectService::get(const Route& route) {
  auto obj = store_.get(keyOf(route));
  if (!obj) {
    if (obj.error().code == ErrorCode::kNotFound) {
      return error(404, ErrorCode::kNotFound, describe(keyOf(route)) + " not found");
    }
    return error(storeError(obj.error()));
  }
  return ApiReply{200, withResourceVersion(obj->json, obj->version)};
}

ApiReply ObjectService::list(const Route& route) {
  auto objs =
      store_.list(route.resource->kindName, route.resource->clusterScoped ? "" : route.namespace_);
  if (!objs) return error(storeError(objs.error()));
  ObjectListResponse out;
  out.kind = std::string(route.resource->kindName) + "List";
  out.resourceVersion = objs->revision;
  out.items.reserve(objs->items.size());
  for (const store::StoredObject& o : objs->items) {
    out.items.push_back(withResourceVersion(o.json, o.version));
  }
  return ApiReply{200, encodeObjectList(out)};
}

ApiReply ObjectService::remove(const Identity& caller, const Route& route,
                               std::optional<int64_t> expectedVersion) {
  store::ObjectKey key = keyOf(route);
  for (int attempt = 0; attempt < kWriteAttempts; ++attempt) {
    auto current = store_.get(key);
    if (!current) {
      if (current.error().code == ErrorCode::kNotFound) {
        return error(404, ErrorCode::kNotFound, describe(key) + " not found");
      }
      return error(storeError(current.error()));
    }
    if (expectedVersion && *expectedVersion != current->version) {
      return error(409, ErrorCode::kConflict,
                   describe(key) + " has resourceVersion " + std::to_string(current->version) +
                       ", not " + std::to_string(*expectedVersion) + "; nothing was deleted");
    }
    store::WriteOp op{store::WriteOp::Type::kDelete, key, "", current->version};
    store::Event event =
        makeEvent(key, clock_.now(), "ObjectDeleted", describe(key) + " deleted by " + caller.name,
                  json{{"resourceVersion", current->version}}, caller);
    auto written = store_.writeWithEvents(std::span(&op, 1), std::span(&event, 1));
    if (!written) {
      if (written.error().code == ErrorCode::kConflict && !expectedVersion) continue;
      if (written.error().code == ErrorCode::kNotFound) {
        return error(404, ErrorCode::kNotFound, describe(key) + " not found");
      }
      return error(storeError(written.error()));
    }
    return ApiReply{
        200, encodeDeleteResponse({key.kind, key.namespace_, key.name, written->versions.front()})};
  }
  return error(409, ErrorCode::kConflict, describe(key) + " kept changing; try again");
}

ApiReply ObjectService::action(const Identity& caller, const Route& route, std::string_view body) {
  auto request = decodeActionRequest(body);
  if (!request) return error(request.error());
  store::ObjectKey key = keyOf(route);
  const char* name = actionName(route.action);
  if (route.action == Action::kSetImage && (request->container.empty() || request->image.empty())) {
    return error(400, ErrorCode::kInvalidArgument,
                 "set-image needs \"container\" (a container name or \"*\") and \"image\"");
  }
  if (route.action == Action::kUndo && !revisions_) {
    return error(501, ErrorCode::kUnsupported,
                 "undo needs the rollout's revision history, which this server cannot read (no "
                 "platform is attached to the API); re-apply the older manifest instead");
  }
  for (int attempt = 0; attempt < kWriteAttempts; ++attempt) {
    auto current = store_.get(key);
    if (!current) {
      if (current.error().code == ErrorCode::kNotFound) {
        return error(404, ErrorCode::kNotFound, describe(key) + " not found");
      }
      return error(storeError(current.error()));
    }
    std::string nextJson;
    json evidence = {{"action", name}};
    std::string message = std::string(name) + " requested by " + caller.name;
    if (route.resource->kind == spec::Kind::kApplication) {
      auto app = spec::applicationFromJson(current->json, key.toString());
      if (!app.value) {
        return error(500, ErrorCode::kInternal,
                     "the stored " + describe(key) + " cannot be decoded",
                     std::move(app.diagnostics));
      }
      Result<spec::Application> next =
          route.action == Action::kRollback
              ? gitops::requestRollback(*app.value, {request->id, request->noGit, request->prune,
                                                     request->reason, caller.name})
              : gitops::requestOperation(*app.value, route.action == Action::kSync,
                                         request->revision, request->prune, caller.name,
                                         caller.role == Role::kAdmin);
      if (!next) return error(next.error());
      if (route.action == Action::kRollback) {
        // A rollback is a sync: an admin's may pass a closed window, as a sync would.
        if (caller.role == Role::kAdmin) {
          next->operation->info.push_back({spec::kOverrideSyncWindows, "true"});
        }
        const gitops::RollbackIntent intent = *gitops::rollbackOf(*next);
        evidence["revision"] = intent.revision;
        evidence["id"] = intent.id;
        evidence["noGit"] = !intent.revert;
        if (!intent.reason.empty()) evidence["reason"] = intent.reason;
        message += " (to " + intent.revision.substr(0, 7) + ", history " +
                   std::to_string(intent.id) +
                   (intent.revert ? ", by a revert commit)" : ", without Git)");
      }
      if (!request->revision.empty()) evidence["revision"] = request->revision;
      if (request->prune) evidence["prune"] = true;
      next->metadata.resourceVersion.clear();
      nextJson = spec::toJson(*next);
    } else if (route.resource->kind == spec::Kind::kAnalysisRun) {
      auto run = spec::analysisRunFromJson(current->json, key.toString());
      if (!run.value) {
        return error(500, ErrorCode::kInternal,
                     "the stored " + describe(key) + " cannot be decoded");
      }
      if (run.value->spec.terminate) {
        ActionResponse same{key.kind, key.namespace_,   key.name,
                            name,     current->version, describe(key) + " is already terminating"};
        return ApiReply{200, encodeActionResponse(same)};
      }
      run.value->spec.terminate = true;
      run.value->metadata.resourceVersion.clear();
      nextJson = spec::toJson(*run.value);
    } else {
      auto decoded = spec::rolloutFromJson(current->json, key.toString());
      if (!decoded.value) {
        return error(500, ErrorCode::kInternal,
                     "the stored " + describe(key) + " cannot be decoded");
      }
      const spec::Rollout& r = *decoded.value;
      Result<spec::Rollout> next = makeError(ErrorCode::kInternal, "unknown action");
      switch (route.action) {
        case Action::kPromote:
          next = request->full ? rollout::promoteFull(r) : rollout::promote(r);
          evidence["full"] = request->full;
          break;
        case Action::kAbort: next = rollout::abortRollout(r); break;
        case Action::kRetry: next = rollout::retry(r); break;
        case Action::kUndo: {
          auto revs = revisions_(key.namespace_ + "/" + key.name);
          if (!revs) return error(revs.error());
          next = rollout::undo(r, *revs, request->toRevision);
          if (request->toRevision) evidence["toRevision"] = *request->toRevision;
          break;
        }
        case Action::kPause: next = rollout::pause(r); break;
        case Action::kResume: next = rollout::resume(r); break;
        case Action::kRestart: next = rollout::restart(r, clock_.now()); break;
        case Action::kSetImage:
          next = rollout::setImage(r, request->container + "=" + request->image);
          evidence["container"] = request->container;
          evidence["image"] = request->image;
          break;
        case Action::kTerminate: break;
      }
      if (!next) return error(next.error());
      if (*next == r) {  // nothing to write (a pause of a paused rollout, the same image)
        ActionResponse same{key.kind, key.namespace_,   key.name,
                            name,     current->version, describe(key) + " unchanged"};
        return ApiReply{200, encodeActionResponse(same)};
      }
      spec::Rollout out = std::move(*next);
      if (out.spec != r.spec) out.metadata.generation = r.metadata.generation + 1;
      out.metadata.resourceVersion.clear();
      nextJson = spec::toJson(out);
    }
    store::WriteOp op{store::WriteOp::Type::kPut, key, nextJson, current->version};
    store::Event event =
        makeEvent(key, clock_.now(), actionEventReason(route.action), message, evidence, caller);
    auto written = store_.writeWithEvents(std::span(&op, 1), std::span(&event, 1));
    if (!written) {
      if (retryable(written.error())) continue;
      if (written.error().code == ErrorCode::kNotFound) {
        return error(404, ErrorCode::kNotFound, describe(key) + " not found");
      }
      return error(storeError(written.error()));
    }
    ActionResponse out{key.kind, key.namespace_, key.name, name, written->versions.front(),
                       message};
    return ApiReply{200, encodeActionResponse(out)};
  }
  return error(409, ErrorCode::kConflict, describe(key) + " kept changing; try again");
}

ApiReply ObjectService::revisions(const Route& route) {
  if (!revisions_) {
    return error(501, ErrorCode::kUnsupported,
                 "revision history is not available: no platform is attached to the API");
  }
  if (auto missing = missingRollout(route)) return *missing;
  store::ObjectKey key = keyOf(route);
  auto revs = revisions_(key.namespace_ + "/" + key.name);
  if (!revs) return error(revs.error());
  std::vector<RevisionView> out;
  for (const platform::ObservedRevision& r : *revs) {
    RevisionView v;
    v.revision = r.revision;
    v.podTemplateHash = r.podTemplateHash;
    for (const spec::Container& c : r.template_.spec.containers) v.images.push_back(c.image);
    v.desiredReplicas = r.desiredReplicas;
    v.readyReplicas = r.readyReplicas;
    v.availableReplicas = r.availableReplicas;
    out.push_back(std::move(v));
  }
  std::sort(out.begin(), out.end(),
            [](const RevisionView& a, const RevisionView& b) { return a.revision > b.revision; });
  return ApiReply{200, encodeRevisions(out)};
}

std::optional<ApiReply> ObjectService::missingRollout(const Route& route) {
  store::ObjectKey key = keyOf(route);
  if (auto obj = store_.get(key); !obj) {
    if (obj.error().code == ErrorCode::kNotFound) {
      return error(404, ErrorCode::kNotFound, describe(key) + " not found");
    }
    return error(storeError(obj.error()));
  }
  return std::nullopt;
}

ApiReply ObjectService::replicas(const Route& route) {
  if (!replicas_) {
    return error(501, ErrorCode::kUnsupported,
                 "replicas are not available: no platform is attached to the API");
  }
  if (auto missing = missingRollout(route)) return *missing;
  store::ObjectKey key = keyOf(route);
  auto observed = replicas_(key.namespace_ + "/" + key.name);
  if (!observed) return error(observed.error());
  std::vector<ReplicaView> out;
  for (const platform::ObservedReplica& r : *observed) {
    out.push_back(ReplicaView{r.name, r.podTemplateHash, r.index, r.state, r.ready, r.restarts,
                              r.lastExit, r.message, r.startedAt});
  }
  return ApiReply{200, encodeReplicas(out)};
}

ApiReply ObjectService::logs(const Route& route, const LogsQuery& query) {
  if (!readLog_) {
    return error(501, ErrorCode::kUnsupported,
                 "replica logs are not available: no platform is attached to the API");
  }
  if (auto missing = missingRollout(route)) return *missing;
  store::ObjectKey key = keyOf(route);
  auto chunk = readLog_(key.namespace_ + "/" + key.name, query.replica, query.offset, query.limit);
  if (!chunk) return error(chunk.error());
  LogChunkView out{query.replica, std::move(chunk->text), chunk->offset, 0};
  out.text.resize(completeUtf8Prefix(out.text));
  out.nextOffset = out.offset + static_cast<int64_t>(out.text.size());
  return ApiReply{200, encodeLogChunk(out)};
}

ApiReply ObjectService::events(const EventsQuery& q) {
  store::EventQuery query;
  if (!q.name.empty()) {
    const Resource* res = resourceByUserName(q.kind);
    query.object =
        store::ObjectKey{q.kind, res != nullptr && res->clusterScoped ? "" : q.namespace_, q.name};
    if (query.object->namespace_.empty() && !(res != nullptr && res->clusterScoped)) {
      query.object->namespace_ = std::string(kDefaultNamespace);
    }
  }
  auto matches = [&](const store::Event& e) {
    if (!q.kind.empty() && e.object.kind != q.kind) return false;
    if (!q.namespace_.empty() && e.object.namespace_ != q.namespace_) return false;
    return true;
  };
  std::vector<store::Event> out;
  int64_t since = q.sinceId;
  // Pages through the log; bounded so one request cannot scan forever.
  constexpr int kMaxPages = 200;
  for (int page = 0; page < kMaxPages; ++page) {
    query.sinceId = since;
    query.limit = 1000;
    auto got = store_.listEvents(query);
    if (!got) return error(storeError(got.error()));
    for (store::Event& e : *got) {
      since = e.id;
      if (!matches(e)) continue;
      out.push_back(std::move(e));
      if (q.tail > 0) {
        if (static_cast<int64_t>(out.size()) > q.tail) out.erase(out.begin());
      } else if (static_cast<int64_t>(out.size()) >= q.limit) {
        return ApiReply{200, encodeEvents(out)};
      }
    }
    if (got->size() < 1000) break;
  }
  return ApiReply{200, encodeEvents(out)};
}

}  // namespace ramp::api
