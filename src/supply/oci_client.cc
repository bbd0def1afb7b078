#include "supply/oci_client.h"

#include <cctype>
#include <memory>
#include <nlohmann/json.hpp>

#include "common/base64.h"

namespace ramp::supply {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool isLoopback(std::string_view registry) {
  std::string_view host = registry;
  if (host.starts_with("[")) {
    host = host.substr(0, host.find(']') + 1);
  } else {
    host = host.substr(0, host.find(':'));
  }
  return host == "localhost" || host.starts_with("127.") || host == "[::1]";
}

std::unexpected<Error> statusError(const http::Response& r, const std::string& url) {
  std::string what = "GET " + url + ": HTTP " + std::to_string(r.status);
  // Registries answer {"errors":[{"code","message"}]}; name the first.
  auto j = nlohmann::json::parse(r.body, nullptr, false);
  if (j.is_object() && j.contains("errors") && j["errors"].is_array() && !j["errors"].empty() &&
      j["errors"][0].is_object()) {
    const auto& e = j["errors"][0];
    if (e.contains("code") && e["code"].is_string()) what += " " + e["code"].get<std::string>();
    if (e.contains("message") && e["message"].is_string()) {
      what += ": " + e["message"].get<std::string>();
    }
  }
  ErrorCode code = ErrorCode::kUnavailable;
  if (r.status == 404) code = ErrorCode::kNotFound;
  if (r.status == 401) code = ErrorCode::kUnauthenticated;
  if (r.status == 403) code = ErrorCode::kPermissionDenied;
  if (r.status >= 400 && r.status < 500 && r.status != 404 && r.status != 401 && r.status != 403 &&
      r.status != 429) {
    code = ErrorCode::kInvalidArgument;
  }
  return makeError(code, what);
}

// The scheme and authority ("https://host:port") of an absolute URL.
std::string originOf(std::string_view url) {
  size_t start = url.find("://");
  start = start == std::string_view::npos ? 0 : start + 3;
  return std::string(url.substr(0, url.find('/', start)));
}

// Sends `req`, following up to 5 redirects: registries answer blob (and some manifest) GETs with
// a 307 to a CDN or object store. Credentials (the Authorization header, Basic auth) go only to
// the registry's own origin, never where it redirects; an https -> http redirect is refused.
Result<http::Response> sendFollowingRedirects(http::Request req) {
  const std::string origin = originOf(req.url);
  for (int hop = 0;; ++hop) {
    auto r = http::send(req);
    if (!r) return r;
    bool redirect = r->status == 301 || r->status == 302 || r->status == 303 || r->status == 307 ||
                    r->status == 308;
    std::string location = r->header("Location");
    if (!redirect || location.empty()) return r;
    std::string from = http::redactUrl(req.url);
    if (hop == 5) {
      return makeError(ErrorCode::kUnavailable, "GET " + from + ": more than 5 redirects");
    }
    if (location.starts_with("/")) {
      location.insert(0, originOf(req.url));
    } else if (!location.starts_with("http://") && !location.starts_with("https://")) {
      return makeError(ErrorCode::kUnsupported,
                       "GET " + from + ": redirect to an unsupported location");
    }
    if (req.url.starts_with("https://") && location.starts_with("http://")) {
      return makeError(ErrorCode::kPermissionDenied,
                       "GET " + from + ": refused a redirect from https to http");
    }
    req.url = location;
    if (originOf(location) != origin) {
      std::erase_if(req.headers, [](const auto& h) { return lower(h.first) == "authorization"; });
      req.basicAuth.reset();
    }
  }
}

}  // namespace

Result<AuthChallenge> parseAuthChallenge(std::string_view h) {
  auto bad = [&](const std::string& why) {
    return makeError(ErrorCode::kParse, "WWW-Authenticate: " + why);
  };
  size_t i = 0;
  auto skipSpace = [&] {
    while (i < h.size() && (h[i] == ' ' || h[i] == '\t')) ++i;
  };
  skipSpace();
  size_t start = i;
  while (i < h.size() && h[i] != ' ' && h[i] != '\t') ++i;
  AuthChallenge c;
  c.scheme = std::string(h.substr(start, i - start));
  if (c.scheme.empty()) return bad("no scheme");
  while (true) {
    skipSpace();
    if (i >= h.size()) break;
    size_t nameStart = i;
    while (i < h.size() && h[i] != '=' && h[i] != ',' && h[i] != ' ') ++i;
    std::string name = lower(h.substr(nameStart, i - nameStart));
    skipSpace();
    if (name.empty() || i >= h.size() || h[i] != '=') return bad("expected name=value");
    ++i;
    skipSpace();
    std::string value;
    if (i < h.size() && h[i] == '"') {
      ++i;
      bool closed = false;
      while (i < h.size()) {
        char ch = h[i++];
        if (ch == '\\' && i < h.size()) {
          value += h[i++];
        } else if (ch == '"') {
          closed = true;
          break;
        } else {
          value += ch;
        }
      }
      if (!closed) return bad("unterminated quoted value of " + name);
    } else {
      size_t v = i;
      while (i < h.size() && h[i] != ',' && h[i] != ' ') ++i;
      value = std::string(h.substr(v, i - v));
    }
    c.params[name] = value;
    skipSpace();
    if (i < h.size()) {
      if (h[i] != ',') return bad("expected ',' after " + name);
      ++i;
    }
  }
  return c;
}

Result<std::string> parseTokenResponse(std::string_view body) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_object()) {
    for (const char* key : {"token", "access_token"}) {
      auto it = j.find(key);
      if (it != j.end() && it->is_string() && !it->get<std::string>().empty()) {
        return it->get<std::string>();
      }
    }
  }
  return makeError(ErrorCode::kParse, "token response: no \"token\" or \"access_token\" string");
}

std::string normalizeRegistryHost(std::string_view key) {
  if (size_t scheme = key.find("://"); scheme != std::string_view::npos) {
    key = key.substr(scheme + 3);
  }
  key = key.substr(0, key.find('/'));
  std::string host = lower(key);
  if (host == "docker.io" || host == "registry-1.docker.io") return std::string(kDockerHubRegistry);
  return host;
}

Result<RegistryCredentials> parseDockerConfig(std::string_view json) {
  auto j = nlohmann::json::parse(json, nullptr, false);
  auto bad = [](const std::string& why) {
    return makeError(ErrorCode::kParse, "docker config: " + why);
  };
  if (j.is_discarded() || !j.is_object()) return bad("not a JSON object");
  for (const char* helper : {"credsStore", "credHelpers"}) {
    if (j.contains(helper)) {
      return makeError(ErrorCode::kUnsupported,
                       std::string("docker config: ") + helper +
                           ": credential helpers are not run; put the registry's auth in auths");
    }
  }
  RegistryCredentials out;
  auto auths = j.find("auths");
  if (auths == j.end()) return out;
  if (!auths->is_object()) return bad("auths: not an object");
  for (const auto& [key, entry] : auths->items()) {
    std::string where = "auths." + key;
    if (!entry.is_object()) return bad(where + ": not an object");
    http::BasicCredentials c;
    if (auto a = entry.find("auth"); a != entry.end()) {
      if (!a->is_string()) return bad(where + ".auth: not a string");
      auto decoded = decodeBase64(a->get<std::string>());
      size_t colon = decoded ? decoded->find(':') : std::string::npos;
      if (colon == std::string::npos) return bad(where + ".auth: not base64 of user:password");
      c.username = decoded->substr(0, colon);
      c.password = decoded->substr(colon + 1);
    } else if (entry.contains("username") && entry.contains("password")) {
      if (!entry["username"].is_string() || !entry["password"].is_string()) {
        return bad(where + ": username and password must be strings");
      }
      c.username = entry["username"].get<std::string>();
      c.password = entry["password"].get<std::string>();
    } else if (entry.contains("identitytoken") || entry.contains("registrytoken")) {
      return makeError(
          ErrorCode::kUnsupported,
          "docker config: " + where + ": identity and registry tokens are not supported; use auth");
    } else {
      continue;  // an empty entry (docker login to a credential helper leaves these)
    }
    out[normalizeRegistryHost(key)] = std::move(c);
  }
  return out;
}

std::optional<http::BasicCredentials> OciClient::credentialsFor(const ImageReference& repo) const {
  if (auto it = options_.credentialsByRegistry.find(normalizeRegistryHost(repo.registry));
      it != options_.credentialsByRegistry.end()) {
    return it->second;
  }
  return options_.credentials;
}

std::string digestTag(std::string_view digest) {
  std::string tag(digest);
  if (size_t colon = tag.find(':'); colon != std::string::npos) tag[colon] = '-';
  return tag;
}

std::string OciClient::baseUrl(const ImageReference& repo) const {
  std::string scheme = options_.scheme;
  if (scheme.empty()) scheme = isLoopback(repo.registry) ? "http" : "https";
  std::string host =
      repo.registry == kDockerHubRegistry ? std::string(kDockerHubApiHost) : repo.registry;
  return scheme + "://" + host + "/v2/" + repo.repository + "/";
}

Result<std::string> OciClient::token(const ImageReference& repo, const AuthChallenge& challenge,
                                     const std::string& url) {
  auto realm = challenge.params.find("realm");
  if (realm == challenge.params.end() || realm->second.empty()) {
    return makeError(ErrorCode::kUnauthenticated,
                     "GET " + url + ": Bearer challenge without a realm");
  }
  std::string scope = "repository:" + repo.repository + ":pull";
  if (auto s = challenge.params.find("scope"); s != challenge.params.end() && !s->second.empty()) {
    scope = s->second;
  }
  std::string tokenUrl = realm->second;
  tokenUrl += tokenUrl.find('?') == std::string::npos ? "?" : "&";
  if (auto s = challenge.params.find("service"); s != challenge.params.end()) {
    tokenUrl += "service=" + http::urlEncode(s->second) + "&";
  }
  tokenUrl += "scope=" + http::urlEncode(scope);
  http::Request req;
  req.url = tokenUrl;
  req.timeout = options_.timeout;
  req.insecure = options_.insecure;
  req.basicAuth = credentialsFor(repo);
  auto r = http::send(req);
  if (!r) return std::unexpected(r.error());
  if (!r->ok()) {
    auto e = statusError(*r, http::redactUrl(tokenUrl));
    if (r->status == 401 || r->status == 403) e.error().code = ErrorCode::kUnauthenticated;
    return e;
  }
  auto t = parseTokenResponse(r->body);
  if (!t) {
    return makeError(ErrorCode::kUnauthenticated,
                     "GET " + http::redactUrl(tokenUrl) + ": " + t.error().message);
  }
  return "Bearer " + *t;
}

Result<OciClient::Fetched> OciClient::get(const ImageReference& repo, const std::string& path,
                                          const std::string& accept, int64_t maxBytes) {
  std::string url = baseUrl(repo) + path;
  std::string key = repo.repositoryName();
  bool challenged = false;
  bool basic = false;
  while (true) {
    http::Request req;
    req.url = url;
    req.timeout = options_.timeout;
    req.insecure = options_.insecure;
    if (!accept.empty()) req.headers.emplace_back("Accept", accept);
    if (basic) {
      req.basicAuth = credentialsFor(repo);  // http_client encodes it; never cached here
    } else {
      std::lock_guard lock(mu_);
      if (auto it = tokens_.find(key); it != tokens_.end()) {
        req.headers.emplace_back("Authorization", it->second);
      }
    }
    // The body is kept only up to the cap: a registry cannot make ramp buffer more.
    auto body = std::make_shared<std::string>();
    auto tooBig = std::make_shared<bool>(false);
    req.onBody = [body, tooBig, maxBytes](std::string_view piece) {
      if (static_cast<int64_t>(body->size() + piece.size()) > maxBytes) {
        *tooBig = true;
        return false;
      }
      body->append(piece);
      return true;
    };
    // Streaming bounds only silences (http_client.h): the whole request is bounded here.
    const Clock& clock = options_.clock != nullptr ? *options_.clock : realClock();
    const Time deadline = clock.now() + options_.timeout;
    req.keepGoing = [&clock, deadline] { return clock.now() < deadline; };
    auto r = sendFollowingRedirects(req);
    if (!r && r.error().code == ErrorCode::kCancelled) {
      return makeError(
          ErrorCode::kDeadlineExceeded,
          "GET " + url + ": timed out after " + std::to_string(options_.timeout.count()) + " ms");
    }
    if (!r) return std::unexpected(r.error());
    if (*tooBig) {
      return makeError(
          ErrorCode::kFailedPrecondition,
          "GET " + url + ": body larger than the cap of " + std::to_string(maxBytes) + " bytes");
    }
    if (r->ok()) {
      r->body = std::move(*body);
      return Fetched{std::move(*r), url};
    }
    if (r->status != 401 || challenged) return statusError(*r, url);
    challenged = true;
    auto c = parseAuthChallenge(r->header("WWW-Authenticate"));
    if (!c) return makeError(ErrorCode::kUnauthenticated, "GET " + url + ": " + c.error().message);
    std::string scheme = lower(c->scheme);
    if (scheme == "bearer") {
      auto t = token(repo, *c, url);
      if (!t) return std::unexpected(t.error());
      std::lock_guard lock(mu_);
      tokens_[key] = std::move(*t);
    } else if (scheme == "basic" && credentialsFor(repo)) {
      basic = true;
    } else {
      return makeError(ErrorCode::kUnauthenticated,
                       "GET " + url + ": the registry asks for " + c->scheme +
                           " authentication and no credentials are configured");
    }
  }
}

Result<FetchedManifest> OciClient::getManifest(const ImageReference& repo,
                                               std::string_view reference) {
  bool byDigest = reference.starts_with("sha256:");
  if (byDigest) {
    if (auto ok = validateDigest(reference); !ok) return std::unexpected(ok.error());
  }
  auto f = get(repo, "manifests/" + std::string(reference), manifestAcceptHeader(),
               options_.maxManifestBytes);
  if (!f) return std::unexpected(f.error());
  FetchedManifest out;
  out.bytes = std::move(f->response.body);
  out.digest = sha256Digest(out.bytes);
  auto fail = [&](const std::string& why) {
    return makeError(ErrorCode::kFailedPrecondition, "GET " + f->url + ": " + why);
  };
  if (byDigest && out.digest != reference) {
    return fail("digest mismatch: expected " + std::string(reference) + ", got " + out.digest);
  }
  std::string header = f->response.header("Docker-Content-Digest");
  if (!header.empty() && header != out.digest) {
    return fail("digest mismatch: Docker-Content-Digest says " + header + ", the bytes hash to " +
                out.digest);
  }
  auto m = parseManifest(out.bytes, f->response.header("Content-Type"));
  if (!m) return makeError(m.error().code, "GET " + f->url + ": " + m.error().message);
  out.mediaType = m->mediaType;
  out.manifest = std::move(*m);
  return out;
}

Result<std::string> OciClient::resolveDigest(const ImageReference& ref) {
  if (!ref.digest.empty()) return ref.digest;
  auto m = getManifest(ref, ref.tag);
  if (!m) return std::unexpected(m.error());
  return m->digest;
}

Result<std::string> OciClient::getBlob(const ImageReference& repo, std::string_view digest,
                                       int64_t maxBytes) {
  if (auto ok = validateDigest(digest); !ok) return std::unexpected(ok.error());
  auto f = get(repo, "blobs/" + std::string(digest), "",
               maxBytes > 0 ? maxBytes : options_.maxBlobBytes);
  if (!f) return std::unexpected(f.error());
  if (auto ok = checkDigest(f->response.body, digest); !ok) {
    return makeError(ok.error().code, "GET " + f->url + ": " + ok.error().message);
  }
  return std::move(f->response.body);
}

Result<std::vector<Descriptor>> OciClient::referrers(const ImageReference& repo,
                                                     std::string_view digest,
                                                     std::string_view artifactType) {
  if (auto ok = validateDigest(digest); !ok) return std::unexpected(ok.error());
  std::vector<Descriptor> all;
  bool fallback = false;
  auto f = get(repo, "referrers/" + std::string(digest), std::string(kOciIndexType),
               options_.maxManifestBytes);
  if (f) {
    auto m = parseManifest(f->response.body, f->response.header("Content-Type"));
    if (!m) return makeError(m.error().code, "GET " + f->url + ": " + m.error().message);
    if (!m->isIndex) return makeError(ErrorCode::kParse, "GET " + f->url + ": not an index");
    all = std::move(m->manifests);
  } else if (f.error().code == ErrorCode::kNotFound) {
    fallback = true;
    auto index = getManifest(repo, digestTag(digest));
    if (index) {
      if (!index->manifest.isIndex) {
        return makeError(ErrorCode::kParse, "referrers tag " + digestTag(digest) + " of " +
                                                repo.repositoryName() + " is not an index");
      }
      all = std::move(index->manifest.manifests);
    } else if (index.error().code != ErrorCode::kNotFound) {
      return std::unexpected(index.error());
    }
  } else {
    return std::unexpected(f.error());
  }
  {
    std::lock_guard lock(mu_);
    lastFallback_ = fallback;
  }
  std::vector<Descriptor> out;
  for (Descriptor& d : all) {
    if (artifactType.empty() || d.artifactType == artifactType) out.push_back(std::move(d));
  }
  return out;
}

bool OciClient::lastReferrersUsedFallback() const {
  std::lock_guard lock(mu_);
  return lastFallback_;
}

}  // namespace ramp::supply
