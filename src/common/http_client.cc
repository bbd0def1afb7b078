#include "common/http_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <mutex>

#include "common/idle_pool.h"

namespace ramp::http {
namespace {

// libcurl's global state must be set up once before any handle is used, from one thread.
void initCurlOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

size_t writeBody(char* data, size_t size, size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

// Streaming: hands each piece to the request's callback; 0 (abort) when it says stop.
// A response that is not a success keeps its body (the error) in Response::body.
struct StreamState {
  const std::function<bool(std::string_view)>* onBody = nullptr;
  CURL* curl = nullptr;
  std::string* errorBody = nullptr;
  bool stopped = false;
};
size_t streamBody(char* data, size_t size, size_t count, void* user) {
  auto* s = static_cast<StreamState*>(user);
  long status = 0;
  curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &status);
  if (status < 200 || status >= 300) {
    s->errorBody->append(data, size * count);
    return size * count;
  }
  if (!(*s->onBody)(std::string_view(data, size * count))) {
    s->stopped = true;
    return 0;
  }
  return size * count;
}

int progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  const auto* keepGoing = static_cast<const std::function<bool()>*>(user);
  return (*keepGoing)() ? 0 : 1;  // non-zero aborts the transfer
}

// A PEM blob for libcurl (it copies the bytes).
curl_blob blobOf(const std::string& pem) {
  return curl_blob{const_cast<char*>(pem.data()), pem.size(), CURL_BLOB_COPY};
}

size_t writeHeader(char* data, size_t size, size_t count, void* user) {
  auto* response = static_cast<Response*>(user);
  std::string_view line(data, size * count);
  // A new status line starts a new header block (redirects, 100 Continue): keep the last one.
  if (line.starts_with("HTTP/")) {
    response->headers.clear();
    return size * count;
  }
  auto colon = line.find(':');
  if (colon == std::string_view::npos) return size * count;
  auto trim = [](std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return std::string(s);
  };
  response->headers.emplace_back(trim(line.substr(0, colon)), trim(line.substr(colon + 1)));
  return size * count;
}

struct CurlDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

bool validMethod(std::string_view m) {
  return !m.empty() && std::all_of(m.begin(), m.end(), [](char c) {
    return std::isupper(static_cast<unsigned char>(c)) != 0;
  });
}

// The handles of keepAlive requests, each with the connection its last request left open
// (IdlePool: the one given back last is taken first, its connection the likeliest alive). Each
// holds a TLS connection (~175 KiB with its buffers and HTTP/2 state); one per thread, as before,
// kept one for every thread that ever made a request (a Kubernetes controller's workers, Event
// sender, audit log, leader election) while most of them were idle. Two are kept idle.
using CurlHandle = std::unique_ptr<CURL, CurlDeleter>;
IdlePool<CURL, CurlDeleter>& handles() {
  // Never destroyed: used until exit.
  static auto* pool =
      new IdlePool<CURL, CurlDeleter>(2, [] { return CurlHandle(curl_easy_init()); });
  return *pool;
}

}  // namespace

std::string Response::header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k.size() == name.size() && std::equal(k.begin(), k.end(), name.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) ==
                 std::tolower(static_cast<unsigned char>(b));
        })) {
      return v;
    }
  }
  return "";
}

std::string redactUrl(std::string_view url) {
  auto scheme = url.find("://");
  size_t start = scheme == std::string_view::npos ? 0 : scheme + 3;
  size_t end = url.find_first_of("/?#", start);
  if (end == std::string_view::npos) end = url.size();
  auto at = url.substr(start, end - start).rfind('@');
  if (at == std::string_view::npos) return std::string(url);
  std::string out(url.substr(0, start));
  out += url.substr(start + at + 1);
  return out;
}

std::string urlEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

Result<Response> send(const Request& request) {
  initCurlOnce();
  const std::string where = request.method + " " + redactUrl(request.url);
  if (!validMethod(request.method)) {
    return makeError(ErrorCode::kInvalidArgument, "invalid HTTP method in " + where);
  }
  if (!request.url.starts_with("http://") && !request.url.starts_with("https://")) {
    return makeError(ErrorCode::kInvalidArgument,
                     "invalid URL " + redactUrl(request.url) + ": scheme must be http or https");
  }
  // keepAlive: a pooled handle (handles()), whose connection cache outlives the request
  // (curl_easy_reset clears the options, not the connections); it is reset before it goes back,
  // so that it holds no pointer into this call's frame.
  struct Pooled {
    CurlHandle handle;
    ~Pooled() {
      if (handle) {
        curl_easy_reset(handle.get());
        handles().giveBack(std::move(handle));
      }
    }
  } pooled;
  std::unique_ptr<CURL, CurlDeleter> fresh;
  CURL* c = nullptr;
  if (request.keepAlive) {
    pooled.handle = handles().take();
    c = pooled.handle.get();
  } else {
    fresh.reset(curl_easy_init());
    c = fresh.get();
  }
  if (c == nullptr) return makeError(ErrorCode::kInternal, "curl_easy_init failed for " + where);

  Response response;
  char errbuf[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(c, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);  // required for timeouts in multithreaded programs
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  const long timeoutMs = static_cast<long>(std::max<int64_t>(1, request.timeout.count()));
  StreamState stream{&request.onBody, c, &response.body, false};
  if (request.onBody) {
    // A stream has no end to wait for: bound connecting, and silence (below 1 byte/s for the
    // timeout), not the whole transfer.
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, timeoutMs);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, std::max<long>(1, timeoutMs / 1000));
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, streamBody);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &stream);
  } else {
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeoutMs);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, writeBody);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &response.body);
  }
  if (request.keepAlive) {
    curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(c, CURLOPT_TCP_KEEPIDLE, 30L);
    curl_easy_setopt(c, CURLOPT_TCP_KEEPINTVL, 10L);
  }
  if (request.keepGoing) {
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, &request.keepGoing);
  }
  if (!request.caPem.empty()) {
    curl_blob ca = blobOf(request.caPem);
    curl_easy_setopt(c, CURLOPT_CAINFO_BLOB, &ca);
  }
  if (!request.clientCertPem.empty()) {
    curl_blob cert = blobOf(request.clientCertPem);
    curl_blob key = blobOf(request.clientKeyPem);
    curl_easy_setopt(c, CURLOPT_SSLCERT_BLOB, &cert);
    curl_easy_setopt(c, CURLOPT_SSLCERTTYPE, "PEM");
    curl_easy_setopt(c, CURLOPT_SSLKEY_BLOB, &key);
    curl_easy_setopt(c, CURLOPT_SSLKEYTYPE, "PEM");
  }
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, writeHeader);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &response);
  curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");  // accept whatever libcurl can decode
  if (request.insecure) {
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  if (request.basicAuth) {
    curl_easy_setopt(c, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
    curl_easy_setopt(c, CURLOPT_USERNAME, request.basicAuth->username.c_str());
    curl_easy_setopt(c, CURLOPT_PASSWORD, request.basicAuth->password.c_str());
  }
  if (request.method == "GET") {
    curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
  } else if (request.method == "HEAD") {
    curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  } else {
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }
  if (!request.body.empty() || request.method == "POST" || request.method == "PUT") {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  }
  curl_slist* raw = nullptr;
  for (const auto& [k, v] : request.headers) {
    std::string line = v.empty() ? k + ";" : k + ": " + v;
    raw = curl_slist_append(raw, line.c_str());
  }
  // Without this libcurl sends "Expect: 100-continue" for larger bodies and waits for it.
  raw = curl_slist_append(raw, "Expect:");
  std::unique_ptr<curl_slist, SlistDeleter> headerList(raw);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headerList.get());

  CURLcode rc = curl_easy_perform(c);
  if (rc == CURLE_WRITE_ERROR && stream.stopped) rc = CURLE_OK;  // the caller ended the stream
  if (rc != CURLE_OK) {
    std::string reason = errbuf[0] != 0 ? errbuf : curl_easy_strerror(rc);
    switch (rc) {
      case CURLE_OPERATION_TIMEDOUT:
        return makeError(ErrorCode::kDeadlineExceeded, where + ": timed out after " +
                                                           std::to_string(request.timeout.count()) +
                                                           " ms (" + reason + ")");
      case CURLE_ABORTED_BY_CALLBACK:
        return makeError(ErrorCode::kCancelled, where + ": cancelled");
      case CURLE_URL_MALFORMAT:
      case CURLE_UNSUPPORTED_PROTOCOL:
        return makeError(ErrorCode::kInvalidArgument, where + ": " + reason);
      default: return makeError(ErrorCode::kUnavailable, where + ": " + reason);
    }
  }
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &response.status);
  return response;
}

}  // namespace ramp::http
