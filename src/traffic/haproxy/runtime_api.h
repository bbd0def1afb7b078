#pragma once

// A client for HAProxy's runtime API (the "stats socket"), over a unix socket or TCP. A Session
// is one connection in `prompt` mode, so several commands share one connect and each reply is
// delimited by the "\n> " prompt. Every read and write is bounded by the client's timeout.
//
// HAProxy answers a successful `set weight`/`enable server` with an empty reply and an error
// with text ("No such server."), without a status code; callers decide which text is success.
//
// Thread safety: a RuntimeApiClient is immutable and may be shared; a Session is used by one
// thread at a time.

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ramp/clock.h"
#include "ramp/error.h"

namespace ramp::traffic::haproxy {

struct RuntimeApiAddress {
  std::string unixPath;  // set for "unix:/path" or a path starting with '/'
  std::string host;      // set for "host:port" or "tcp:host:port"
  int port = 0;

  // "unix:/run/haproxy/admin.sock" or "127.0.0.1:9999", for messages.
  std::string describe() const;
};

// Parses "unix:/path", "/path", "tcp:host:port", "host:port" or "[v6]:port". Returns
// kInvalidArgument with the reason on anything else.
Result<RuntimeApiAddress> parseRuntimeApiAddress(std::string_view text);

class RuntimeApiClient {
 public:
  class Session {
   public:
    ~Session();
    Session(Session&&) noexcept;
    Session& operator=(Session&&) = delete;

    // Sends one command line (no newline inside) and returns HAProxy's reply without the
    // trailing prompt (empty on a silent success). Returns kUnavailable if the connection
    // breaks, kDeadlineExceeded on timeout, kInvalidArgument for a command containing a newline.
    Result<std::string> call(std::string_view command);

    // Sends `commands` as one line joined by "; ", which HAProxy reads at once and runs one
    // after another before it reads anything else from this connection, and returns their
    // replies in order (HAProxy prompts after each). Errors as call(); kInvalidArgument for an
    // empty list or a command holding a newline or ';'.
    Result<std::vector<std::string>> callBatch(std::span<const std::string> commands);

   private:
    friend class RuntimeApiClient;
    Session(int fd, const RuntimeApiClient* client) : fd_(fd), client_(client) {}
    Status writeAll(std::string_view data, Time deadline);
    Result<std::string> readReply(Time deadline);
    // Reads until `count` prompts have arrived; the replies before each.
    Result<std::vector<std::string>> readReplies(size_t count, Time deadline);
    int fd_ = -1;
    const RuntimeApiClient* client_;
    std::string buffer_;
  };

  RuntimeApiClient(RuntimeApiAddress address, Duration timeout, Clock& clock);

  // Connects and switches the connection to prompt mode. Returns kUnavailable naming the
  // address when HAProxy cannot be reached, kDeadlineExceeded on timeout.
  Result<Session> open() const;

  const RuntimeApiAddress& address() const { return address_; }

 private:
  RuntimeApiAddress address_;
  Duration timeout_;
  Clock* clock_;
};

}  // namespace ramp::traffic::haproxy
