#include "traffic/nginx/nginx_router.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/file_io.h"
#include "traffic/nginx/upstream_render.h"

extern char** environ;

namespace ramp::traffic::nginx {
namespace {

constexpr size_t kMaxOutput = 4000;

std::unexpected<Error> routerError(ErrorCode code, std::string message) {
  return makeError(code, "ramp/nginx: " + message);
}

// The common file helpers, with this router's prefix on their errors.
Result<std::optional<std::string>> readFile(const std::string& path) {
  auto content = readFileIfExists(path);
  if (!content) return routerError(content.error().code, content.error().message);
  return content;
}

Status writeAtomically(const std::string& path, std::string_view content) {
  if (auto st = writeFileAtomically(path, content); !st) {
    return routerError(st.error().code, st.error().message);
  }
  return {};
}

size_t appendBody(char* data, size_t size, size_t n, void* out) {
  auto* body = static_cast<std::string*>(out);
  if (body->size() + size * n > 65536) return 0;  // the state is a few bytes; refuse floods
  body->append(data, size * n);
  return size * n;
}

}  // namespace

Result<std::unique_ptr<NginxRouter>> NginxRouter::create(std::string_view configJson,
                                                         int32_t maxTrafficWeight, Clock& clock) {
  auto config = parseNginxConfig(configJson);
  if (!config) return std::unexpected(config.error());
  if (maxTrafficWeight <= 0) {
    return makeError(ErrorCode::kInvalidArgument, "maxTrafficWeight must be positive");
  }
  return std::make_unique<NginxRouter>(std::move(*config), maxTrafficWeight, clock);
}

NginxRouter::NginxRouter(NginxConfig config, int32_t maxTrafficWeight, Clock& clock)
    : config_(std::move(config)), maxTrafficWeight_(maxTrafficWeight), clock_(&clock) {}

Status NginxRouter::testConfig() {
  std::vector<std::string> args = {config_.nginxBinary, "-t", "-q"};
  if (!config_.prefix.empty()) args.insert(args.end(), {"-p", config_.prefix});
  if (!config_.conf.empty()) args.insert(args.end(), {"-c", config_.conf});
  if (!config_.errorLog.empty()) args.insert(args.end(), {"-e", config_.errorLog});
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  int pipeFds[2];
  if (::pipe2(pipeFds, O_CLOEXEC) != 0) {
    return routerError(ErrorCode::kInternal, std::string("pipe: ") + std::strerror(errno));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipeFds[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, pipeFds[1], STDERR_FILENO);
  pid_t pid = -1;
  int rc = ::posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(pipeFds[1]);
  if (rc != 0) {
    ::close(pipeFds[0]);
    return routerError(ErrorCode::kUnavailable,
                       "cannot run " + config_.nginxBinary + ": " + std::strerror(rc));
  }
  std::string output;
  const Time deadline = clock_->now() + Duration(config_.timeoutMs);
  bool timedOut = false;
  for (;;) {
    const auto left = deadline - clock_->now();
    if (left <= Duration(0)) {
      timedOut = true;
      break;
    }
    pollfd p{pipeFds[0], POLLIN, 0};
    int pr = ::poll(&p, 1, static_cast<int>(left.count()));
    if (pr < 0 && errno == EINTR) continue;
    if (pr <= 0) continue;
    char buf[4096];
    ssize_t n = ::read(pipeFds[0], buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (output.size() < kMaxOutput) output.append(buf, static_cast<size_t>(n));
  }
  ::close(pipeFds[0]);
  if (timedOut) ::kill(pid, SIGKILL);  // our own child, by its pid
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timedOut) {
    return routerError(ErrorCode::kDeadlineExceeded, "`nginx -t` did not finish within " +
                                                         std::to_string(config_.timeoutMs) + " ms");
  }
  while (!output.empty() && std::isspace(static_cast<unsigned char>(output.back()))) {
    output.pop_back();
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return routerError(ErrorCode::kFailedPrecondition,
                       "`nginx -t` rejected the rendered " + config_.includePath + ": " + output);
  }
  return {};
}

Result<pid_t> NginxRouter::masterPid() {
  auto content = readFile(config_.pidFile);
  if (!content) return std::unexpected(content.error());
  if (!content->has_value()) {
    return routerError(ErrorCode::kUnavailable,
                       "nginx is not running: no pid file " + config_.pidFile);
  }
  long pid = 0;
  try {
    pid = std::stol(**content);
  } catch (const std::exception&) {
    pid = 0;
  }
  if (pid <= 1) {
    return routerError(ErrorCode::kUnavailable,
                       "nginx is not running: pid file " + config_.pidFile + " holds no pid");
  }
  return static_cast<pid_t>(pid);
}

Result<std::vector<NginxRouter::Worker>> NginxRouter::workers() {
  auto master = masterPid();
  if (!master) return std::unexpected(master.error());
  std::vector<Worker> children;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || !std::all_of(name.begin(), name.end(), ::isdigit)) continue;
    auto stat = readFile(entry.path().string() + "/stat");
    if (!stat || !stat->has_value()) continue;
    // "pid (comm) state ppid ... starttime(22nd field)": parse after the last ')'.
    const std::string& text = **stat;
    size_t close = text.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(text.substr(close + 1));
    std::string field;
    long ppid = 0;
    if (!(rest >> field >> ppid) || ppid != *master) continue;
    Worker child;
    child.pid = static_cast<pid_t>(std::stol(name));
    for (int i = 5; i < 22 && rest >> field; ++i) {
    }
    if (!(rest >> child.start)) continue;
    auto cmdline = readFile(entry.path().string() + "/cmdline");
    child.shuttingDown = cmdline && cmdline->has_value() &&
                         (*cmdline)->find("is shutting down") != std::string::npos;
    children.push_back(child);
  }
  return children;
}

Result<int> NginxRouter::oldWorkers() {
  auto children = workers();
  if (!children) return std::unexpected(children.error());
  // After a HUP the master starts the new generation together, waits 100 ms and only then asks
  // the old one to quit. Children alive when this router sent its HUP are of an old generation;
  // for a reload sent by someone else (or before a restart), a child started well before the
  // newest one is too.
  unsigned long long newest = 0;
  for (const auto& c : *children) newest = std::max(newest, c.start);
  const unsigned long long window = std::max(1L, ::sysconf(_SC_CLK_TCK) / 20);  // 50 ms
  int old = 0;
  for (const auto& c : *children) {
    const bool beforeOurReload =
        std::any_of(beforeReload_.begin(), beforeReload_.end(),
                    [&](const Worker& w) { return w.pid == c.pid && w.start == c.start; });
    old += (c.shuttingDown || beforeOurReload || c.start + window < newest) ? 1 : 0;
  }
  return old;
}

Status NginxRouter::reload() {
  auto pid = masterPid();
  if (!pid) return std::unexpected(pid.error());
  auto children = workers();
  beforeReload_ = children ? std::move(*children) : std::vector<Worker>{};
  if (::kill(*pid, SIGHUP) != 0) {
    return routerError(ErrorCode::kUnavailable, "cannot signal nginx master " +
                                                    std::to_string(*pid) + " (from " +
                                                    config_.pidFile + "): " + std::strerror(errno));
  }
  return {};
}

Result<std::string> NginxRouter::runningDigest() {
  CURL* curl = curl_easy_init();
  if (curl == nullptr) return routerError(ErrorCode::kInternal, "curl_easy_init failed");
  std::string body;
  curl_easy_setopt(curl, CURLOPT_URL, config_.stateUrl.c_str());
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(config_.timeoutMs));
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_FORBID_REUSE, 1L);  // a new connection reaches a new worker
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, appendBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
  CURLcode rc = curl_easy_perform(curl);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup(curl);
  if (rc != CURLE_OK) {
    return routerError(ErrorCode::kUnavailable, "state request to " + config_.stateUrl +
                                                    " failed: " + curl_easy_strerror(rc));
  }
  if (status != 200) {
    return routerError(ErrorCode::kUnavailable, "state request to " + config_.stateUrl +
                                                    " answered HTTP " + std::to_string(status));
  }
  while (!body.empty() && std::isspace(static_cast<unsigned char>(body.back()))) body.pop_back();
  return body;
}

Status NginxRouter::apply(int32_t weight) {
  if (!stable_) return routerError(ErrorCode::kFailedPrecondition, "syncEndpoints not called yet");
  auto rendered = renderUpstream(config_, *stable_, *canary_, weight, maxTrafficWeight_, draining_);
  if (!rendered) {
    return routerError(rendered.error().code, "upstream \"" + config_.upstream +
                                                  "\": " + rendered.error().message + "; leaving " +
                                                  config_.includePath + " unchanged");
  }
  return install(*rendered);
}

Status NginxRouter::install(const RenderedUpstream& rendered) {
  auto previous = readFile(config_.includePath);
  if (!previous) return std::unexpected(previous.error());
  if (previous->has_value() && **previous == rendered.text) {
    // Same render on disk: reload only if the running nginx is known to serve another one.
    if (config_.stateUrl.empty()) return {};
    auto running = runningDigest();
    if (running && *running == rendered.digest) return {};
    return reload();
  }
  if (auto st = writeAtomically(config_.includePath, rendered.text); !st) return st;
  if (auto st = testConfig(); !st) {
    Status restored;
    if (previous->has_value()) {
      restored = writeAtomically(config_.includePath, **previous);
    } else {
      std::error_code ec;
      std::filesystem::remove(config_.includePath, ec);
      if (ec) restored = routerError(ErrorCode::kUnavailable, ec.message());
    }
    std::string note = restored
                           ? "; restored the previous file"
                           : "; could not restore the previous file: " + restored.error().message;
    return makeError(st.error().code, st.error().message + note);
  }
  return reload();
}

Status NginxRouter::syncEndpoints(const RevisionEndpoints& stable, const RevisionEndpoints& canary,
                                  std::span<const RevisionEndpoints> draining) {
  stable_ = stable;
  canary_ = canary;
  draining_.assign(draining.begin(), draining.end());
  if (!weight_) {
    // A restarted controller carries on from the weight the file on disk was rendered with.
    auto content = readFile(config_.includePath);
    if (content && content->has_value()) weight_ = renderedCanaryWeight(**content);
  }
  return apply(weight_.value_or(0));
}

Status NginxRouter::setWeight(int32_t canaryWeight, std::span<const WeightDestination> additional) {
  if (!additional.empty()) {
    return routerError(ErrorCode::kUnsupported,
                       "additional weighted destinations (experiments) are not supported");
  }
  if (canaryWeight < 0 || canaryWeight > maxTrafficWeight_) {
    return routerError(ErrorCode::kInvalidArgument,
                       "canary weight " + std::to_string(canaryWeight) + " is outside [0, " +
                           std::to_string(maxTrafficWeight_) + "]");
  }
  auto st = apply(canaryWeight);
  if (st) weight_ = canaryWeight;
  return st;
}

Status NginxRouter::checkRunning() {
  auto pid = masterPid();
  if (!pid) return std::unexpected(pid.error());
  if (::kill(*pid, 0) != 0 && errno == ESRCH) {
    return routerError(ErrorCode::kUnavailable, "nginx is not running: no process " +
                                                    std::to_string(*pid) + " (from " +
                                                    config_.pidFile + ")");
  }
  return {};
}

Result<WeightCheck> NginxRouter::verifyWeight(int32_t canaryWeight,
                                              std::span<const WeightDestination> additional) {
  if (!additional.empty()) return WeightCheck::kUnsupported;
  if (!stable_) return WeightCheck::kNotYet;
  auto rendered =
      renderUpstream(config_, *stable_, *canary_, canaryWeight, maxTrafficWeight_, draining_);
  if (!rendered || !rendered->satisfied) return WeightCheck::kNotYet;
  auto onDisk = readFile(config_.includePath);
  if (!onDisk) return std::unexpected(onDisk.error());
  if (!onDisk->has_value() || **onDisk != rendered->text) return WeightCheck::kNotYet;
  // A file nobody serves is not a verified weight: nginx must be running.
  if (auto st = checkRunning(); !st) return std::unexpected(st.error());
  if (config_.stateUrl.empty()) return WeightCheck::kVerified;
  auto running = runningDigest();
  if (!running) return std::unexpected(running.error());
  if (*running != rendered->digest) return WeightCheck::kNotYet;
  // Workers of an older render still finishing their connections keep serving old weights.
  auto old = oldWorkers();
  if (!old) return std::unexpected(old.error());
  return *old == 0 ? WeightCheck::kVerified : WeightCheck::kNotYet;
}

Status NginxRouter::setHeaderRoute(const HeaderRoute& route) {
  return routerError(ErrorCode::kUnsupported,
                     "setHeaderRoute is not supported (route \"" + route.name + "\")");
}

Status NginxRouter::setMirrorRoute(const MirrorRoute& route) {
  return routerError(ErrorCode::kUnsupported,
                     "setMirrorRoute is not supported (route \"" + route.name + "\")");
}

Status NginxRouter::removeManagedRoutes() { return {}; }

Status NginxRouter::removeAll() {
  auto st = install(renderRemoved(config_));
  // A stopped nginx loads the file as it is when it starts: nothing more to do.
  if (!st && st.error().code == ErrorCode::kUnavailable && !checkRunning()) st = {};
  if (st) {
    stable_.reset();
    canary_.reset();
    draining_.clear();
    weight_.reset();
  }
  return st;
}

}  // namespace ramp::traffic::nginx
