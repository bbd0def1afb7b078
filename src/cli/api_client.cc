#include "cli/api_client.h"

#include <curl/curl.h>

#include <cstdlib>
#include <fstream>
#include <ostream>

#include "api/types.h"
#include "common/http_client.h"
#include "common/strings.h"

namespace ramp::cli {
namespace {

ErrorCode codeForStatus(long status) {
  switch (status) {
    case 400:
    case 413: return ErrorCode::kInvalidArgument;
    case 401: return ErrorCode::kUnauthenticated;
    case 403: return ErrorCode::kPermissionDenied;
    case 404: return ErrorCode::kNotFound;
    case 409: return ErrorCode::kConflict;
    case 422: return ErrorCode::kFailedPrecondition;
    case 501: return ErrorCode::kUnsupported;
    case 503: return ErrorCode::kUnavailable;
    default: return ErrorCode::kInternal;
  }
}

Error errorFromResponse(long status, const std::string& body) {
  auto e = api::decodeError(body);
  if (!e) {
    return Error{codeForStatus(status),
                 "HTTP " + std::to_string(status) + ": " + body.substr(0, 300)};
  }
  std::string msg = e->message;
  for (const spec::Diagnostic& d : e->diagnostics) msg += "\n  " + spec::formatDiagnostic(d);
  return Error{codeForStatus(status), msg};
}

struct StreamCtx {
  const std::function<bool(const SseEvent&)>* onEvent;
  std::string buffer;
  std::string errorBody;
  long status = 0;
  CURL* curl = nullptr;
  bool stoppedByCaller = false;
  std::optional<Time> deadline;
  Clock* clock = nullptr;
  bool deadlineHit = false;
};

// Parses complete frames out of ctx.buffer.
bool drainFrames(StreamCtx& ctx) {
  while (true) {
    size_t end = ctx.buffer.find("\n\n");
    if (end == std::string::npos) return true;
    std::string frame = ctx.buffer.substr(0, end);
    ctx.buffer.erase(0, end + 2);
    SseEvent ev;
    ev.event = "message";
    bool any = false;
    size_t pos = 0;
    while (pos <= frame.size()) {
      size_t nl = frame.find('\n', pos);
      if (nl == std::string::npos) nl = frame.size();
      std::string line = frame.substr(pos, nl - pos);
      pos = nl + 1;
      if (line.empty() || line[0] == ':') continue;
      size_t colon = line.find(':');
      std::string field = line.substr(0, colon);
      std::string value = colon == std::string::npos ? "" : line.substr(colon + 1);
      if (!value.empty() && value[0] == ' ') value.erase(0, 1);
      if (field == "data") {
        if (!ev.data.empty()) ev.data += '\n';
        ev.data += value;
        any = true;
      } else if (field == "event") {
        ev.event = value;
        any = true;
      } else if (field == "id") {
        ev.id = value;
      }
    }
    if (!any) continue;
    if (!(*ctx.onEvent)(ev)) {
      ctx.stoppedByCaller = true;
      return false;
    }
  }
}

size_t onData(char* ptr, size_t size, size_t n, void* user) {
  auto& ctx = *static_cast<StreamCtx*>(user);
  size_t len = size * n;
  if (ctx.status == 0) curl_easy_getinfo(ctx.curl, CURLINFO_RESPONSE_CODE, &ctx.status);
  if (ctx.status != 200) {
    if (ctx.errorBody.size() < 65536) ctx.errorBody.append(ptr, len);
    return len;
  }
  for (size_t i = 0; i < len; ++i) {
    if (ptr[i] != '\r') ctx.buffer += ptr[i];
  }
  return drainFrames(ctx) ? len : 0;
}

int onProgress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto& ctx = *static_cast<StreamCtx*>(user);
  if (ctx.deadline && ctx.clock->now() >= *ctx.deadline) {
    ctx.deadlineHit = true;
    return 1;
  }
  return 0;
}

}  // namespace

void addClientFlags(CLI::App& cmd, ClientFlags& flags) {
  cmd.add_option("--server", flags.server, "API server URL (default $RAMP_SERVER or the config)");
  cmd.add_option("--token", flags.token, "Bearer token (default $RAMP_TOKEN or the config)");
  cmd.add_option("--config", flags.config, "Client config file (server:, token: lines)");
  cmd.add_flag("--insecure-skip-tls-verify", flags.insecure,
               "Do not verify the server's TLS certificate");
}

Result<ClientConfig> resolveClientConfig(const ClientFlags& flags) {
  ClientConfig c;
  std::string path = flags.config;
  bool explicitConfig = !path.empty();
  if (path.empty()) {
    if (const char* p = std::getenv("RAMP_CONFIG")) {
      path = p;
      explicitConfig = true;
    } else if (const char* home = std::getenv("HOME")) {
      path = std::string(home) + "/.config/ramp/config";
    }
  }
  if (!path.empty()) {
    std::ifstream in(path);
    if (!in && explicitConfig) {
      return makeError(ErrorCode::kInvalidArgument, "config file " + path + ": cannot be read");
    }
    std::string line;
    int lineNo = 0;
    while (in && std::getline(in, line)) {
      ++lineNo;
      if (size_t h = line.find('#'); h != std::string::npos) line = line.substr(0, h);
      line = std::string(trim(line));
      if (line.empty()) continue;
      size_t colon = line.find(':');
      if (colon == std::string::npos) {
        return makeError(ErrorCode::kInvalidArgument,
                         path + ":" + std::to_string(lineNo) + ": expected KEY: VALUE");
      }
      std::string key(trim(line.substr(0, colon))), value(trim(line.substr(colon + 1)));
      if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') &&
          value.back() == value.front()) {
        value = value.substr(1, value.size() - 2);
      }
      if (key == "server") {
        c.server = value;
      } else if (key == "token") {
        c.token = value;
      } else if (key == "insecure-skip-tls-verify") {
        c.insecure = value == "true";
      } else {
        return makeError(ErrorCode::kInvalidArgument,
                         path + ":" + std::to_string(lineNo) + ": unknown key \"" + key +
                             "\" (server, token, insecure-skip-tls-verify)");
      }
    }
  }
  if (const char* s = std::getenv("RAMP_SERVER"); s && *s) c.server = s;
  if (const char* t = std::getenv("RAMP_TOKEN"); t && *t) c.token = t;
  if (!flags.server.empty()) c.server = flags.server;
  if (!flags.token.empty()) c.token = flags.token;
  if (flags.insecure) c.insecure = true;
  if (c.server.empty()) c.server = "http://127.0.0.1:8080";
  if (c.server.rfind("http://", 0) != 0 && c.server.rfind("https://", 0) != 0) {
    c.server = "http://" + c.server;
  }
  while (!c.server.empty() && c.server.back() == '/') c.server.pop_back();
  return c;
}

Result<std::string> ApiClient::call(const std::string& method, const std::string& path,
                                    const std::string& body, const std::string& contentType) {
  http::Request req;
  req.method = method;
  req.url = config_.server + path;
  req.body = body;
  req.insecure = config_.insecure;
  req.timeout = Duration(30000);
  if (!config_.token.empty()) req.headers.push_back({"Authorization", "Bearer " + config_.token});
  if (!body.empty()) req.headers.push_back({"Content-Type", contentType});
  auto res = http::send(req);
  if (!res) {
    return makeError(
        res.error().code == ErrorCode::kDeadlineExceeded ? ErrorCode::kDeadlineExceeded
                                                         : ErrorCode::kUnavailable,
        "cannot reach the ramp server at " + config_.server + ": " + res.error().message);
  }
  if (!res->ok()) return std::unexpected(errorFromResponse(res->status, res->body));
  return std::move(res->body);
}

Status ApiClient::watch(const std::string& pathAndQuery, const std::string& lastEventId,
                        const std::function<bool(const SseEvent&)>& onEvent,
                        std::optional<Time> deadline, Clock& clock) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  CURL* curl = curl_easy_init();
  if (curl == nullptr) return makeError(ErrorCode::kInternal, "libcurl: cannot create a handle");
  StreamCtx ctx;
  ctx.onEvent = &onEvent;
  ctx.curl = curl;
  ctx.deadline = deadline;
  ctx.clock = &clock;
  std::string url = config_.server + pathAndQuery;
  curl_slist* headers = nullptr;
  std::string auth = "Authorization: Bearer " + config_.token;
  if (!config_.token.empty()) headers = curl_slist_append(headers, auth.c_str());
  std::string last = "Last-Event-ID: " + lastEventId;
  if (!lastEventId.empty()) headers = curl_slist_append(headers, last.c_str());
  headers = curl_slist_append(headers, "Accept: text/event-stream");
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, onData);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &ctx);
  curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, onProgress);
  curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &ctx);
  curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
  if (config_.insecure) {
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  CURLcode rc = curl_easy_perform(curl);
  curl_slist_free_all(headers);
  long status = ctx.status;
  if (status == 0) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup(curl);
  if (ctx.deadlineHit) return makeError(ErrorCode::kDeadlineExceeded, "timed out");
  if (ctx.stoppedByCaller) return {};
  if (status != 0 && status != 200)
    return std::unexpected(errorFromResponse(status, ctx.errorBody));
  if (rc != CURLE_OK) {
    return makeError(ErrorCode::kUnavailable,
                     "watch stream from " + config_.server + ": " + curl_easy_strerror(rc));
  }
  return {};
}

int reportError(IoStreams& io, const Error& error) {
  io.err << "ramp: " << error.message << "\n";
  if (error.code == ErrorCode::kUnauthenticated || error.code == ErrorCode::kPermissionDenied) {
    return 4;
  }
  return 1;
}

}  // namespace ramp::cli
