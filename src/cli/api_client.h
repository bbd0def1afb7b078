#pragma once

// ApiClient: how CLI verbs talk to a running `ramp serve` over the HTTP API (docs/api.md).
//
// The server and token come from, in order: --server / --token flags, RAMP_SERVER / RAMP_TOKEN,
// the config file (--config, else $RAMP_CONFIG, else ~/.config/ramp/config: "server: URL",
// "token: TOKEN", "insecure-skip-tls-verify: true" lines), else http://127.0.0.1:8080 without a
// token. Request and response bodies are the types in api/types.h, shared with the server.
//
// Thread safety: one client per verb invocation; not shared between threads.

#include <CLI/CLI.hpp>
#include <functional>
#include <optional>
#include <string>

#include "cli/cli.h"
#include "ramp/clock.h"
#include "ramp/error.h"

namespace ramp::cli {

struct ClientFlags {
  std::string server;
  std::string token;
  std::string config;
  bool insecure = false;
};

// Declares --server, --token, --config and --insecure-skip-tls-verify on `cmd`.
void addClientFlags(CLI::App& cmd, ClientFlags& flags);

struct ClientConfig {
  std::string server;  // base URL, no trailing '/'
  std::string token;   // "" = none
  bool insecure = false;
};

// Resolves the flags against the environment and the config file. Errors: kInvalidArgument for
// an unreadable --config file or a malformed line (file:line), or a server that is not an
// http(s) URL.
Result<ClientConfig> resolveClientConfig(const ClientFlags& flags);

// One server-sent event.
struct SseEvent {
  std::string id;
  std::string event;  // "message" when the frame names none
  std::string data;
};

class ApiClient {
 public:
  explicit ApiClient(ClientConfig config) : config_(std::move(config)) {}

  // Sends a request. On a 2xx returns the body. Otherwise an Error whose code follows the HTTP
  // status (401 kUnauthenticated, 403 kPermissionDenied, 404 kNotFound, 409 kConflict, 422
  // kFailedPrecondition, 400/413 kInvalidArgument, …) and whose message is the server's message
  // followed by one line per lint diagnostic; kUnavailable when the server cannot be reached.
  Result<std::string> call(const std::string& method, const std::string& path,
                           const std::string& body = "",
                           const std::string& contentType = "application/json");

  // Opens the watch stream `pathAndQuery` (resuming from `lastEventId` when non-empty) and calls
  // `onEvent` for every event until it returns false (Ok), the stream ends (Ok), or `deadline`
  // passes (kDeadlineExceeded). Errors as call() for a refused stream.
  Status watch(const std::string& pathAndQuery, const std::string& lastEventId,
               const std::function<bool(const SseEvent&)>& onEvent, std::optional<Time> deadline,
               Clock& clock);

  const ClientConfig& config() const { return config_; }

 private:
  ClientConfig config_;
};

// Prints "ramp: <message>" (and the lint diagnostics, one per line) to io.err and returns the
// exit code for `error`: 1, or 4 for kUnauthenticated / kPermissionDenied.
int reportError(IoStreams& io, const Error& error);

}  // namespace ramp::cli
