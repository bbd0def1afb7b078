#include "traffic/haproxy/runtime_api.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <cerrno>
#include <charconv>
#include <cstring>

namespace ramp::traffic::haproxy {
namespace {

constexpr std::string_view kPrompt = "\n> ";

std::string errnoText(int err) { return std::strerror(err); }

// Waits for `events` on fd until the deadline. Returns kDeadlineExceeded on timeout.
Status waitFor(int fd, short events, Time deadline, Clock& clock, std::string_view what) {
  for (;;) {
    const auto left = deadline - clock.now();
    if (left <= Duration(0)) {
      return makeError(ErrorCode::kDeadlineExceeded, "timed out " + std::string(what));
    }
    pollfd p{fd, events, 0};
    int rc = ::poll(&p, 1, static_cast<int>(left.count()));
    if (rc > 0) return {};
    if (rc < 0 && errno != EINTR) {
      return makeError(ErrorCode::kUnavailable, std::string(what) + ": " + errnoText(errno));
    }
  }
}

}  // namespace

std::string RuntimeApiAddress::describe() const {
  if (!unixPath.empty()) return "unix:" + unixPath;
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

Result<RuntimeApiAddress> parseRuntimeApiAddress(std::string_view text) {
  RuntimeApiAddress a;
  if (text.starts_with("unix:")) text.remove_prefix(5);
  if (text.starts_with("/")) {
    if (text.size() >= sizeof(sockaddr_un{}.sun_path)) {
      return makeError(ErrorCode::kInvalidArgument, "unix socket path is too long");
    }
    a.unixPath = std::string(text);
    return a;
  }
  if (text.starts_with("tcp:")) text.remove_prefix(4);
  std::string_view host, port;
  if (text.starts_with("[")) {
    auto close = text.find("]:");
    if (close == std::string_view::npos) {
      return makeError(ErrorCode::kInvalidArgument, "expected [ipv6]:port");
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos || colon == 0) {
      return makeError(
          ErrorCode::kInvalidArgument,
          "expected \"unix:/path/to/socket\" or \"host:port\", got \"" + std::string(text) + "\"");
    }
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  int p = 0;
  auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
  if (ec != std::errc() || ptr != port.data() + port.size() || p <= 0 || p > 65535) {
    return makeError(ErrorCode::kInvalidArgument, "bad port \"" + std::string(port) + "\"");
  }
  a.host = std::string(host);
  a.port = p;
  return a;
}

RuntimeApiClient::RuntimeApiClient(RuntimeApiAddress address, Duration timeout, Clock& clock)
    : address_(std::move(address)), timeout_(timeout), clock_(&clock) {}

Result<RuntimeApiClient::Session> RuntimeApiClient::open() const {
  const Time deadline = clock_->now() + timeout_;
  const std::string where = "HAProxy runtime API " + address_.describe();
  int fd = -1;
  sockaddr_storage storage{};
  socklen_t len = 0;
  if (!address_.unixPath.empty()) {
    auto* sun = reinterpret_cast<sockaddr_un*>(&storage);
    sun->sun_family = AF_UNIX;
    std::memcpy(sun->sun_path, address_.unixPath.c_str(), address_.unixPath.size() + 1);
    len = sizeof(sockaddr_un);
  } else {
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    addrinfo* res = nullptr;
    const std::string port = std::to_string(address_.port);
    int rc = ::getaddrinfo(address_.host.c_str(), port.c_str(), &hints, &res);
    if (rc != 0 || res == nullptr) {
      return makeError(ErrorCode::kUnavailable,
                       where + ": cannot resolve host: " + ::gai_strerror(rc));
    }
    std::memcpy(&storage, res->ai_addr, res->ai_addrlen);
    len = res->ai_addrlen;
    ::freeaddrinfo(res);
  }
  fd = ::socket(storage.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return makeError(ErrorCode::kUnavailable, where + ": socket: " + errnoText(errno));
  Session session(fd, this);
  if (storage.ss_family != AF_UNIX) {
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  }
  if (::connect(fd, reinterpret_cast<sockaddr*>(&storage), len) != 0) {
    if (errno != EINPROGRESS && errno != EAGAIN) {
      return makeError(ErrorCode::kUnavailable, where + ": connect: " + errnoText(errno));
    }
    if (auto st = waitFor(fd, POLLOUT, deadline, *clock_, "connecting to " + where); !st) {
      return std::unexpected(st.error());
    }
    int err = 0;
    socklen_t errLen = sizeof(err);
    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &errLen);
    if (err != 0) return makeError(ErrorCode::kUnavailable, where + ": connect: " + errnoText(err));
  }
  // Prompt mode: HAProxy keeps the connection open and ends every reply with "\n> ".
  if (auto st = session.writeAll("prompt\n", deadline); !st) return std::unexpected(st.error());
  if (auto r = session.readReply(deadline); !r) return std::unexpected(r.error());
  return session;
}

RuntimeApiClient::Session::Session(Session&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      client_(other.client_),
      buffer_(std::move(other.buffer_)) {}

RuntimeApiClient::Session::~Session() {
  if (fd_ >= 0) {
    // Best effort: tell HAProxy we are done, then close.
    static constexpr char kQuit[] = "quit\n";
    (void)!::send(fd_, kQuit, sizeof(kQuit) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
    ::close(fd_);
  }
}

Status RuntimeApiClient::Session::writeAll(std::string_view data, Time deadline) {
  const std::string where = "HAProxy runtime API " + client_->address_.describe();
  while (!data.empty()) {
    ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
    if (n > 0) {
      data.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (auto st = waitFor(fd_, POLLOUT, deadline, *client_->clock_, "writing to " + where); !st) {
        return st;
      }
      continue;
    }
    return makeError(ErrorCode::kUnavailable, where + ": write: " + errnoText(errno));
  }
  return {};
}

Result<std::string> RuntimeApiClient::Session::readReply(Time deadline) {
  auto replies = readReplies(1, deadline);
  if (!replies) return std::unexpected(replies.error());
  return std::move(replies->front());
}

Result<std::vector<std::string>> RuntimeApiClient::Session::readReplies(size_t count,
                                                                        Time deadline) {
  const std::string where = "HAProxy runtime API " + client_->address_.describe();
  char chunk[16384];
  for (;;) {
    if (buffer_ == "> ") {  // the first prompt after "prompt": an empty reply
      buffer_.clear();
      return std::vector<std::string>(count);
    }
    if (count == 1 && buffer_.ends_with(kPrompt)) {
      std::vector<std::string> replies{buffer_.substr(0, buffer_.size() - kPrompt.size())};
      buffer_.clear();
      return replies;
    }
    // Each reply ends with "\n> "; only a prompt at the end of what arrived is complete.
    std::vector<std::string> replies;
    size_t from = 0;
    for (size_t at; replies.size() < count && (at = buffer_.find(kPrompt, from)) != buffer_.npos;
         from = at + kPrompt.size()) {
      replies.push_back(buffer_.substr(from, at - from));
    }
    if (replies.size() == count && buffer_.size() == from) {
      buffer_.clear();
      return replies;
    }
    ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
    if (n > 0) {
      buffer_.append(chunk, static_cast<size_t>(n));
      continue;
    }
    if (n == 0) {
      return makeError(ErrorCode::kUnavailable, where + ": connection closed by HAProxy");
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      if (auto st = waitFor(fd_, POLLIN, deadline, *client_->clock_, "reading from " + where);
          !st) {
        return std::unexpected(st.error());
      }
      continue;
    }
    return makeError(ErrorCode::kUnavailable, where + ": read: " + errnoText(errno));
  }
}

Result<std::string> RuntimeApiClient::Session::call(std::string_view command) {
  if (command.find_first_of("\r\n") != std::string_view::npos) {
    return makeError(ErrorCode::kInvalidArgument, "runtime API command contains a newline");
  }
  const Time deadline = client_->clock_->now() + client_->timeout_;
  std::string line(command);
  line += '\n';
  if (auto st = writeAll(line, deadline); !st) return std::unexpected(st.error());
  auto reply = readReply(deadline);
  if (!reply) return reply;
  // HAProxy ends a non-empty reply with its own newline before the prompt's.
  while (!reply->empty() && (reply->back() == '\n' || reply->back() == '\r')) reply->pop_back();
  return reply;
}

Result<std::vector<std::string>> RuntimeApiClient::Session::callBatch(
    std::span<const std::string> commands) {
  if (commands.empty()) return makeError(ErrorCode::kInvalidArgument, "empty runtime API batch");
  std::string line;
  for (const auto& c : commands) {
    if (c.find_first_of("\r\n;") != std::string::npos) {
      return makeError(ErrorCode::kInvalidArgument,
                       "runtime API command in a batch contains a newline or ';'");
    }
    line += (line.empty() ? "" : "; ") + c;
  }
  line += '\n';
  const Time deadline = client_->clock_->now() + client_->timeout_;
  if (auto st = writeAll(line, deadline); !st) return std::unexpected(st.error());
  auto replies = readReplies(commands.size(), deadline);
  if (!replies) return replies;
  for (auto& reply : *replies) {
    while (!reply.empty() && (reply.back() == '\n' || reply.back() == '\r')) reply.pop_back();
  }
  return replies;
}

}  // namespace ramp::traffic::haproxy
