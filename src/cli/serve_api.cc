// The HTTP API's place in `ramp serve` (see serve.h).

#include "cli/serve.h"

namespace ramp::cli {

void configureApiFlags(CLI::App& cmd, ServeOptions& options) {
  cmd.add_option("--listen", options.listen, "Serve the HTTP API on ADDR (host:port)");
  cmd.add_option("--tokens", options.tokensFile, "Bearer tokens file (name, role, token)");
  cmd.add_option("--tls-cert", options.tlsCert, "TLS certificate (PEM)");
  cmd.add_option("--tls-key", options.tlsKey, "TLS private key (PEM)");
}

Result<std::unique_ptr<ServeApi>> startApi(const ServeOptions& options, store::StateStore&,
                                           controller::Controller&,
                                           const std::function<void(const std::string&)>&) {
  if (options.listen.empty()) return std::unique_ptr<ServeApi>();
  return makeError(ErrorCode::kUnsupported, "--listen: the HTTP API is not in this build yet");
}

}  // namespace ramp::cli
