#include "cli/remote.h"

#include <ostream>

#include "api/types.h"
#include "cli/output.h"
#include "common/go_duration.h"
#include "spec/codec.h"

namespace ramp::cli {

void addRemoteFlags(CLI::App& cmd, RemoteFlags& flags, bool withOutput) {
  addClientFlags(cmd, flags.client);
  cmd.add_option("-n,--namespace", flags.namespace_, "Namespace (default \"default\")");
  if (withOutput) {
    cmd.add_option("-o,--output", flags.output, "Output format: json or yaml")
        ->check(CLI::IsMember({"json", "yaml"}));
  }
}

std::optional<ApiClient> makeClient(IoStreams& io, const RemoteFlags& flags) {
  auto config = resolveClientConfig(flags.client);
  if (!config) {
    io.err << "ramp: " << config.error().message << "\n";
    return std::nullopt;
  }
  if (auto s = api::checkNamespace(flags.namespace_); !s) {
    io.err << "ramp: " << s.error().message << "\n";
    return std::nullopt;
  }
  return ApiClient(std::move(*config));
}

int printStructured(IoStreams& io, const std::string& format, const std::string& json) {
  if (format == "yaml") {
    auto y = jsonToYaml(json);
    if (!y) return reportError(io, y.error());
    io.out << *y;
    return 0;
  }
  io.out << prettyJson(json) << "\n";
  return 0;
}

Result<RolloutView> fetchRolloutView(ApiClient& client, const std::string& namespace_,
                                     const std::string& name, bool colour, Clock& clock) {
  const api::Resource& ro = api::resourceOf(spec::Kind::kRollout);
  const api::Resource& ar = api::resourceOf(spec::Kind::kAnalysisRun);
  auto body = client.call("GET", api::objectPath(ro, namespace_, name));
  if (!body) return std::unexpected(body.error());
  auto decoded = spec::rolloutFromJson(*body, "server response");
  if (!decoded.value) {
    return makeError(ErrorCode::kParse, "the server's Rollout cannot be decoded: " +
                                            (decoded.diagnostics.empty()
                                                 ? std::string("?")
                                                 : spec::formatDiagnostic(decoded.diagnostics[0])));
  }
  RolloutView v;
  v.rollout = std::move(*decoded.value);
  v.now = clock.now();
  v.colour = colour;
  auto runs = client.call("GET", api::collectionPath(ar, namespace_));
  if (!runs) return std::unexpected(runs.error());
  if (auto list = api::decodeObjectList(*runs)) {
    for (const std::string& item : list->items) {
      auto run = spec::analysisRunFromJson(item, "server response");
      if (run.value && runBelongsTo(*run.value, v.rollout)) v.runs.push_back(std::move(*run.value));
    }
  }
  auto events = client.call(
      "GET", "/api/v1/events?kind=Rollout&namespace=" + namespace_ + "&name=" + name + "&tail=8");
  if (!events) return std::unexpected(events.error());
  if (auto list = api::decodeEvents(*events)) v.events = std::move(*list);
  auto revisions = client.call("GET", api::objectPath(ro, namespace_, name) + "/revisions");
  if (revisions) {
    if (auto list = api::decodeRevisions(*revisions)) {
      v.revisions = std::move(*list);
      v.haveRevisions = true;
    }
  } else if (revisions.error().code != ErrorCode::kUnsupported) {
    return std::unexpected(revisions.error());
  }
  // Replicas: a platform that cannot list them (501) or a server without the endpoint (404)
  // leaves the tree without replica rows.
  auto replicas = client.call("GET", api::objectPath(ro, namespace_, name) + "/replicas");
  if (replicas) {
    if (auto list = api::decodeReplicas(*replicas)) {
      v.replicas = std::move(*list);
      v.haveReplicas = true;
    }
  } else if (replicas.error().code != ErrorCode::kUnsupported &&
             replicas.error().code != ErrorCode::kNotFound) {
    return std::unexpected(replicas.error());
  }
  return v;
}

Result<Duration> parseTimeout(const std::string& text) {
  if (auto n = api::parseNonNegative(text)) return Duration(*n * 1000);
  auto d = ramp::parseGoDuration(text);
  if (!d || d->count() < 0) {
    return makeError(ErrorCode::kInvalidArgument,
                     "--timeout " + text + ": expected a duration such as 30s, 5m or 1h");
  }
  return std::chrono::duration_cast<Duration>(*d);
}

}  // namespace ramp::cli
