#pragma once

// Pieces shared by the verbs that talk to a running server (apply, get, list, status, delete and
// the rollout actions): the common flags, client construction, and fetching what the rollout view
// shows.
//
// Thread safety: used from the verb's thread only.

#include <optional>
#include <string>

#include "cli/api_client.h"
#include "cli/rollout_view.h"
#include "cli/verb.h"
#include "ramp/clock.h"

namespace ramp::cli {

struct RemoteFlags {
  ClientFlags client;
  std::string namespace_ = "default";
  std::string output;  // "", "json" or "yaml"
};

// Declares the client flags and -n/--namespace; with `withOutput`, also -o/--output json|yaml.
void addRemoteFlags(CLI::App& cmd, RemoteFlags& flags, bool withOutput);

// Builds a client from the flags; on error prints it and returns nullopt (exit 2).
std::optional<ApiClient> makeClient(IoStreams& io, const RemoteFlags& flags);

// Prints `json` as -o asks (pretty JSON or YAML). Returns the exit code.
int printStructured(IoStreams& io, const std::string& format, const std::string& json);

// GETs a rollout with its AnalysisRuns, its newest events and (when the server has a platform)
// its revisions and replicas.
Result<RolloutView> fetchRolloutView(ApiClient& client, const std::string& namespace_,
                                     const std::string& name, bool colour, Clock& clock);

// Parses "30s", "5m", "1h30m" or plain seconds. kInvalidArgument otherwise.
Result<Duration> parseTimeout(const std::string& text);

}  // namespace ramp::cli
