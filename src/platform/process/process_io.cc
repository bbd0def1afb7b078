#include "platform/process/process_io.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/http_client.h"

namespace ramp::platform::process {

namespace {

bool executableFile(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

std::string envValue(const EnvList& env, const std::string& name) {
  std::string value;
  for (const auto& [k, v] : env) {
    if (k == name) value = v;
  }
  return value;
}

}  // namespace

Result<std::string> findExecutable(const std::string& program, const EnvList& env) {
  if (program.empty()) return makeError(ErrorCode::kNotFound, "empty program name");
  if (program.find('/') != std::string::npos) {
    if (executableFile(program)) return program;
    return makeError(ErrorCode::kNotFound, "\"" + program + "\" is not an executable file");
  }
  std::string path = envValue(env, "PATH");
  if (path.empty()) path = "/usr/local/bin:/usr/bin:/bin";
  std::stringstream dirs(path);
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    std::string candidate = (dir.empty() ? "." : dir) + "/" + program;
    if (executableFile(candidate)) return candidate;
  }
  return makeError(ErrorCode::kNotFound, "\"" + program + "\" not found in PATH " + path);
}

Result<pid_t> spawnProcess(const SpawnRequest& request) {
  std::vector<char*> argv, envp;
  for (const auto& a : request.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<std::string> envStrings;
  envStrings.reserve(request.env.size());
  for (const auto& [k, v] : request.env) envStrings.push_back(k + "=" + v);
  for (auto& e : envStrings) envp.push_back(e.data());
  envp.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, request.logFile.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  // Nothing of the daemon's (listening sockets, the store) leaks into a replica.
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);
  if (!request.workingDir.empty()) {
    posix_spawn_file_actions_addchdir_np(&actions, request.workingDir.c_str());
  }
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  // Own session (so the group can be signalled as a whole), default signal handling and an
  // empty mask whatever the daemon blocks or ignores.
  sigset_t all, none;
  sigfillset(&all);
  sigemptyset(&none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  pid_t pid = 0;
  int rc =
      ::posix_spawn(&pid, request.executable.c_str(), &actions, &attr, argv.data(), envp.data());
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    return makeError(ErrorCode::kUnavailable,
                     "cannot start " + request.executable + ": " + std::strerror(rc));
  }
  return pid;
}

std::optional<ProcStat> readProcStat(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  return parseProcStat(ss.str());
}

bool processAlive(pid_t pid, uint64_t startTime, std::optional<int>* status) {
  if (status != nullptr) status->reset();
  if (pid <= 0) return false;
  auto st = readProcStat(pid);
  // Gone, or the pid now names another process: the one we know has exited.
  if (!st || st->startTime != startTime) return false;
  int ws = 0;
  pid_t r = ::waitpid(pid, &ws, WNOHANG);
  if (r == pid) {
    if (status != nullptr) *status = ws;
    return false;
  }
  if (r == 0) return true;  // our child, still running
  // Not our child (adopted after a restart): alive unless it is a zombie of its new parent.
  return st->state != 'Z' && st->state != 'X';
}

void signalGroup(pid_t pgid, int signal) {
  if (pgid <= 0) return;
  ::kill(-pgid, signal);
  ::kill(pgid, signal);
}

std::string describeWaitStatus(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    int sig = WTERMSIG(status);
    const char* name = ::strsignal(sig);
    return "killed by signal " + std::to_string(sig) + " (" + (name ? name : "?") + ")";
  }
  return "ended with wait status " + std::to_string(status);
}

bool portFree(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return ok;
}

Result<int> pickFreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return makeError(ErrorCode::kUnavailable, std::string("socket: ") + strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  int port = -1;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  int err = errno;
  ::close(fd);
  if (port <= 0) {
    return makeError(ErrorCode::kUnavailable,
                     std::string("no free port on 127.0.0.1: ") + strerror(err));
  }
  return port;
}

namespace {

bool tcpProbe(const std::string& host, int port, Duration timeout, std::string* detail) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  std::string service = std::to_string(port);
  if (int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &res); rc != 0) {
    *detail = "cannot resolve " + host + ": " + gai_strerror(rc);
    return false;
  }
  bool ok = false;
  std::string why = "no address";
  for (addrinfo* ai = res; ai != nullptr && !ok; ai = ai->ai_next) {
    int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) continue;
    int rc = ::connect(fd, ai->ai_addr, ai->ai_addrlen);
    if (rc == 0) {
      ok = true;
    } else if (errno == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      int n = ::poll(&p, 1, static_cast<int>(timeout.count()));
      if (n == 1) {
        int err = 0;
        socklen_t len = sizeof(err);
        ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
        ok = err == 0;
        if (!ok) why = std::strerror(err);
      } else {
        why = "timed out after " + std::to_string(timeout.count()) + " ms";
      }
    } else {
      why = std::strerror(errno);
    }
    ::close(fd);
  }
  ::freeaddrinfo(res);
  if (!ok) *detail = "tcp " + host + ":" + service + ": " + why;
  return ok;
}

bool execProbe(const std::vector<std::string>& command, Duration timeout, const EnvList& env,
               const std::string& workingDir, std::string* detail) {
  auto exe = findExecutable(command[0], env);
  if (!exe) {
    *detail = "exec: " + exe.error().message;
    return false;
  }
  SpawnRequest req;
  req.executable = *exe;
  req.argv = command;
  req.env = env;
  req.workingDir = workingDir;
  req.logFile = "/dev/null";
  auto pid = spawnProcess(req);
  if (!pid) {
    *detail = "exec: " + pid.error().message;
    return false;
  }
  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, *pid, 0));
  bool finished = false;
  if (pidfd >= 0) {
    pollfd p{pidfd, POLLIN, 0};
    finished = ::poll(&p, 1, static_cast<int>(timeout.count())) == 1;
    ::close(pidfd);
  }
  int status = 0;
  if (!finished) {
    signalGroup(*pid, SIGKILL);
    ::waitpid(*pid, &status, 0);
    *detail = pidfd >= 0 ? "exec: timed out after " + std::to_string(timeout.count()) + " ms"
                         : "exec: cannot wait with a timeout (pidfd_open unavailable)";
    return false;
  }
  ::waitpid(*pid, &status, 0);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return true;
  *detail = "exec: " + describeWaitStatus(status);
  return false;
}

}  // namespace

bool runProbe(const ProbeTarget& target, Duration timeout, const EnvList& env,
              const std::string& workingDir, std::string* detail) {
  switch (target.kind) {
    case ProbeTarget::Kind::kHttp: {
      http::Request req;
      req.url = target.url;
      req.timeout = timeout;
      req.insecure = true;  // as the kubelet: HTTPS probes do not verify certificates
      for (const auto& h : target.headers) req.headers.push_back(h);
      auto resp = http::send(req);
      if (!resp) {
        *detail = resp.error().message;
        return false;
      }
      if (resp->status >= 200 && resp->status < 400) return true;
      *detail = "GET " + target.url + " answered " + std::to_string(resp->status);
      return false;
    }
    case ProbeTarget::Kind::kTcp: return tcpProbe(target.host, target.port, timeout, detail);
    case ProbeTarget::Kind::kExec:
      return execProbe(target.command, timeout, env, workingDir, detail);
  }
  return false;
}

Status writeFileAtomic(const std::string& path, const std::string& content) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << content;
    out.flush();
    if (!out) return makeError(ErrorCode::kUnavailable, "cannot write " + tmp);
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return makeError(ErrorCode::kUnavailable, "cannot rename " + tmp + ": " + ec.message());
  return {};
}

void appendLine(const std::string& path, const std::string& line) {
  std::ofstream out(path, std::ios::app);
  out << line << "\n";
}

}  // namespace ramp::platform::process
