#pragma once

// OciClient: a small OCI distribution (registry v2 API) client, read-only, for signature
// verification: manifests and indexes by tag or digest (every digest checked against the bytes
// with SHA-256), blobs (digest and size checked), tag -> digest resolution, and the referrers of
// a digest (the referrers API, or the referrers tag schema `sha256-<hex>` when the registry does
// not serve the API). Authentication: anonymous, HTTP Basic, or the Bearer token flow (a 401
// with `WWW-Authenticate: Bearer realm=…,service=…,scope=…` -> GET the realm for a pull token,
// with the Basic credentials when given, then retry). Redirects (blobs served from a CDN) are
// followed up to 5 hops, with credentials sent to the registry's own origin only. It talks to
// nothing but the registry, where the registry redirects, and the token realm it names.
//
// A thin shell on common/http_client.h; the decoding it relies on (oci_manifest.h,
// parseAuthChallenge, parseTokenResponse) is pure and fuzzed.
//
// Thread safety: an OciClient may be used from several threads at once (the token cache is
// guarded by a mutex). Each call blocks for at most a few request timeouts.

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/http_client.h"
#include "ramp/clock.h"
#include "ramp/error.h"
#include "supply/oci_manifest.h"
#include "supply/oci_reference.h"

namespace ramp::supply {

// A WWW-Authenticate challenge: the scheme ("Bearer", "Basic") and its parameters
// (realm, service, scope, …), names lower-cased.
struct AuthChallenge {
  std::string scheme;
  std::map<std::string, std::string> params;
  bool operator==(const AuthChallenge&) const = default;
};

// Parses one WWW-Authenticate value (RFC 7235: a scheme, then comma-separated name=value or
// name="quoted value" pairs). Errors: kParse naming what is malformed.
Result<AuthChallenge> parseAuthChallenge(std::string_view header);

// The token in a token endpoint's JSON answer ({"token": …} or {"access_token": …}).
// Errors: kParse when neither is a non-empty string.
Result<std::string> parseTokenResponse(std::string_view body);

// Registry host -> credentials, as Docker's ~/.docker/config.json keeps them.
using RegistryCredentials = std::map<std::string, http::BasicCredentials>;

// The registry a credential key names, as ImageReference::registry spells it: the scheme and any
// path dropped ("https://index.docker.io/v1/" -> "index.docker.io"), Docker Hub's aliases
// (docker.io, registry-1.docker.io) folded into index.docker.io.
std::string normalizeRegistryHost(std::string_view key);

// Decodes Docker's config.json `auths`: {"auths":{"<registry>":{"auth":"<base64 user:password>"}
// | {"username":…,"password":…}}}. Errors: kParse naming the registry and field (not JSON, bad
// base64, no ':' in auth); kUnsupported for an entry with only an identitytoken or
// registrytoken, and for credsStore/credHelpers (ramp runs no credential helpers): the message
// names the registry, never a secret.
Result<RegistryCredentials> parseDockerConfig(std::string_view json);

// "sha256-<hex>": the tag under which the referrers tag schema keeps the referrers of `digest`
// (and, with ".sig", cosign's legacy signatures).
std::string digestTag(std::string_view digest);

struct FetchedManifest {
  std::string digest;  // "sha256:<hex>" of `bytes`
  std::string mediaType;
  std::string bytes;  // exactly as served (what signatures and digests cover)
  Manifest manifest;
};

class OciClient {
 public:
  struct Options {
    // Per request, whole: connecting, the headers and the body (a registry that sends its body a
    // byte at a time is cut off here, not only when it falls silent).
    Duration timeout = Duration(10000);
    const Clock* clock = nullptr;        // measures `timeout`; null = realClock()
    int64_t maxManifestBytes = 4 << 20;  // OCI recommends registries accept at least 4 MiB
    int64_t maxBlobBytes = 16 << 20;     // signatures and bundles are a few KiB
    // For Basic and for the token realm: the entry of the image's registry, else `credentials`.
    RegistryCredentials credentialsByRegistry;
    std::optional<http::BasicCredentials> credentials;
    // "http" for registries on loopback (127.0.0.1, localhost, [::1]) unless forced here.
    std::string scheme;     // "" = https, or http for loopback registries
    bool insecure = false;  // skip TLS verification (tests only)
  };

  explicit OciClient(Options options) : options_(std::move(options)) {}

  // GET /v2/<repo>/manifests/<reference> (a tag or a digest). The digest of the bytes must
  // equal `reference` when it is a digest, and the Docker-Content-Digest header when the
  // registry sends one. Errors: kNotFound (404: MANIFEST_UNKNOWN, NAME_UNKNOWN),
  // kUnauthenticated/kPermissionDenied (401/403 after authenticating), kFailedPrecondition
  // (digest mismatch, body over the size cap), kUnavailable (transport, 5xx), kParse (body).
  // Every message names the URL.
  Result<FetchedManifest> getManifest(const ImageReference& repo, std::string_view reference);

  // The digest of `ref`: its digest when it has one (not fetched), else that of the manifest
  // its tag names (fetched and hashed). Errors as getManifest.
  Result<std::string> resolveDigest(const ImageReference& ref);

  // GET /v2/<repo>/blobs/<digest>, at most `maxBytes` (default Options::maxBlobBytes), digest
  // checked. Errors as getManifest.
  Result<std::string> getBlob(const ImageReference& repo, std::string_view digest,
                              int64_t maxBytes = 0);

  // The descriptors of the manifests that refer to `digest` (their `subject`), filtered to
  // `artifactType` when not empty: from GET /v2/<repo>/referrers/<digest>, or, when the
  // registry answers 404 there (no referrers API, e.g. distribution 2.x), from the index at tag
  // `sha256-<hex>` (none when that tag does not exist either). Errors as getManifest, never
  // kNotFound.
  Result<std::vector<Descriptor>> referrers(const ImageReference& repo, std::string_view digest,
                                            std::string_view artifactType = "");

  // Whether the last referrers() call used the tag schema fallback (tests, logs).
  bool lastReferrersUsedFallback() const;

 private:
  struct Fetched {
    http::Response response;
    std::string url;
  };
  // GET `path` (after "/v2/") on the repository's registry, answering an auth challenge once.
  Result<Fetched> get(const ImageReference& repo, const std::string& path,
                      const std::string& accept, int64_t maxBytes);
  Result<std::string> token(const ImageReference& repo, const AuthChallenge& challenge,
                            const std::string& url);
  std::string baseUrl(const ImageReference& repo) const;
  std::optional<http::BasicCredentials> credentialsFor(const ImageReference& repo) const;

  Options options_;
  mutable std::mutex mu_;
  std::map<std::string, std::string> tokens_;  // "registry/repo" -> Authorization value
  bool lastFallback_ = false;
};

}  // namespace ramp::supply
