#pragma once

// HttpClient: ramp's outbound HTTP client (metric providers, webhooks, routers' admin APIs).
//
// One blocking request at a time per call; a request carries its own timeout, so a caller never
// waits longer than it asked for. Built on libcurl, whose headers stay in http_client.cc.
//
// Thread safety: send() may be called from any number of threads at once (each call uses its own
// libcurl handle, or with Request::keepAlive its thread's; libcurl's global state is initialised
// once, thread-safely).

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ramp/clock.h"
#include "ramp/error.h"

namespace ramp::http {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct BasicCredentials {
  std::string username;
  std::string password;
};

struct Request {
  std::string method = "GET";          // GET, POST, PUT, DELETE, …
  std::string url;                     // absolute http:// or https:// URL
  Headers headers;                     // sent in order; a repeated name is sent twice
  std::string body;                    // sent when non-empty (or when method is POST/PUT)
  Duration timeout = Duration(10000);  // whole request: connect, send, receive
  bool insecure = false;               // skip TLS certificate and host name verification
  std::optional<BasicCredentials> basicAuth;
  // TLS from memory (a kubeconfig's *-data): the CA bundle to trust instead of the system's, and
  // a client certificate with its key. PEM text; the key is never printed.
  std::string caPem;
  std::string clientCertPem;
  std::string clientKeyPem;
  // Streaming (a Kubernetes watch): when set, each piece of a 2xx response's body is passed here
  // as it arrives instead of being kept in Response::body (another status keeps its body there),
  // and `timeout` bounds only connecting and a silence of that long between pieces. Returning false
  // ends the transfer: send() then returns the Response with the status received so far.
  std::function<bool(std::string_view)> onBody;
  // Checked about once a second while the request runs; returning false ends it (kCancelled).
  // For a long stream whose owner is shutting down.
  std::function<bool()> keepGoing;
  // Reuse a connection an earlier keepAlive request left open to the same server with the same
  // TLS settings (CA, client certificate), and leave this one open for the next: no TCP and TLS
  // handshake per request. The connections are those of a process-wide pool of idle handles
  // (the two used last are kept; a request takes one, a stream holds one while it runs). For a
  // client that talks to one server all the time (the Kubernetes API); TCP keep-alive probes
  // (after 30 s idle, every 10 s) find a dead peer of a kept connection or a long stream. Off: a
  // new connection per request, closed after it.
  bool keepAlive = false;
};

struct Response {
  long status = 0;  // HTTP status code, e.g. 200
  Headers headers;  // as received (names as the server spelled them)
  std::string body;

  // Returns the first header named `name` (case-insensitive), or "" when absent.
  std::string header(std::string_view name) const;
  bool ok() const { return status >= 200 && status < 300; }
};

// Sends `request` and returns the response, whatever its status code (a 500 is a Response, not
// an Error: the caller decides what a status means).
// Errors: kDeadlineExceeded when the timeout elapsed; kUnavailable when the server cannot be
// reached (DNS, refused connection, TLS failure, connection reset); kInvalidArgument for a
// malformed URL or method. Messages name the method and URL with any user:password stripped.
Result<Response> send(const Request& request);

// Returns `url` with any "user:password@" userinfo removed, for messages and logs.
std::string redactUrl(std::string_view url);

// Percent-encodes `s` for use in a query string or form body (RFC 3986 unreserved kept).
std::string urlEncode(std::string_view s);

}  // namespace ramp::http
