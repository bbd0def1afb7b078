#include "supply/registry_harness.h"

#include <openssl/ecdsa.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "audit/signer.h"
#include "common/base64.h"
#include "common/http_client.h"
#include "ramp/clock.h"
#include "supply/oci_client.h"
#include "supply/oci_manifest.h"
#include "supply/oci_reference.h"

namespace ramp::supply::testing {
namespace {

constexpr const char* kService = "ramp-test-registry";
constexpr const char* kIssuer = "ramp-test-token-issuer";

std::string base64Url(std::string_view bytes) {
  std::string s = encodeBase64(bytes);
  for (char& c : s) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  while (!s.empty() && s.back() == '=') s.pop_back();
  return s;
}

// JWS ES256 wants r || s (32 bytes each), not the DER SEQUENCE OpenSSL produces.
std::string derToRaw(const std::string& der) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size()));
  if (sig == nullptr) return "";
  std::string out(64, '\0');
  BN_bn2binpad(ECDSA_SIG_get0_r(sig), reinterpret_cast<unsigned char*>(out.data()), 32);
  BN_bn2binpad(ECDSA_SIG_get0_s(sig), reinterpret_cast<unsigned char*>(out.data()) + 32, 32);
  ECDSA_SIG_free(sig);
  return out;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

std::unique_ptr<LocalRegistry> LocalRegistry::attach(const std::string& host) {
  auto r = std::unique_ptr<LocalRegistry>(new LocalRegistry());
  r->port_ = std::stoi(host.substr(host.rfind(':') + 1));
  return r;
}

LocalRegistry::~LocalRegistry() {
  if (process_) process_->stop();
}

std::string LocalRegistry::mintToken(const std::string& scopeRepo, const std::string& actions) {
  auto key = audit::SigningKey::fromPem(keyPem_);
  if (!key) return "";
  nlohmann::json header = {{"alg", "ES256"}, {"typ", "JWT"}, {"x5c", {certDerBase64_}}};
  // distribution checks exp/nbf against its wall clock, so the token carries real time.
  auto now = std::chrono::duration_cast<std::chrono::seconds>(realClock().now().time_since_epoch())
                 .count();
  nlohmann::json access = nlohmann::json::array();
  if (!scopeRepo.empty()) {
    nlohmann::json acts = nlohmann::json::array();
    std::stringstream ss(actions);
    for (std::string a; std::getline(ss, a, ',');) acts.push_back(a);
    access.push_back({{"type", "repository"}, {"name", scopeRepo}, {"actions", acts}});
  }
  nlohmann::json claims = {{"iss", kIssuer},
                           {"sub", options_.user},
                           {"aud", kService},
                           {"exp", now + 300},
                           {"nbf", now - 10},
                           {"iat", now},
                           {"jti", std::to_string(++tokensIssued_)},
                           {"access", access}};
  std::string input = base64Url(header.dump()) + "." + base64Url(claims.dump());
  auto sig = key->sign(input);
  if (!sig) return "";
  return input + "." + base64Url(derToRaw(*sig));
}

Result<std::unique_ptr<LocalRegistry>> LocalRegistry::start(const RegistryOptions& options,
                                                            const std::string& workDir) {
  auto r = std::unique_ptr<LocalRegistry>(new LocalRegistry());
  r->options_ = options;
  std::filesystem::create_directories(workDir + "/storage");
  std::string config =
      "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n"
      "    rootdirectory: " +
      workDir + "/storage\n  delete:\n    enabled: true\n";
  if (options.tokenAuth) {
    std::string cmd =
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
        "-keyout " +
        workDir + "/token.key -out " + workDir +
        "/token.crt -days 1 -subj /CN=ramp-test-token >/dev/null 2>&1 && "
        "openssl x509 -in " +
        workDir + "/token.crt -outform DER -out " + workDir + "/token.der";
    if (std::system(cmd.c_str()) != 0) {
      return makeError(ErrorCode::kInternal, "openssl could not make the token certificate");
    }
    r->keyPem_ = slurp(workDir + "/token.key");
    r->certDerBase64_ = encodeBase64(slurp(workDir + "/token.der"));
    r->tokenServer_ = std::make_unique<ramp::testing::TestServer>();
    LocalRegistry* self = r.get();
    r->tokenServer_->server().Get(
        "/token", [self](const httplib::Request& req, httplib::Response& res) {
          std::string want =
              "Basic " + encodeBase64(self->options_.user + ":" + self->options_.password);
          if (req.get_header_value("Authorization") != want) {
            res.status = 401;
            res.set_content(R"({"details":"wrong or no credentials"})", "application/json");
            return;
          }
          // scope=repository:<name>:<actions>; grant what is asked.
          std::string scope = req.get_param_value("scope");
          std::string repo, actions;
          if (scope.starts_with("repository:")) {
            std::string rest = scope.substr(11);
            size_t colon = rest.rfind(':');
            repo = rest.substr(0, colon);
            actions = colon == std::string::npos ? "" : rest.substr(colon + 1);
          }
          nlohmann::json body = {{"token", self->mintToken(repo, actions)}, {"expires_in", 300}};
          res.set_content(body.dump(), "application/json");
        });
    int tokenPort = r->tokenServer_->start();
    config += "auth:\n  token:\n    realm: http://127.0.0.1:" + std::to_string(tokenPort) +
              "/token\n    service: " + kService + "\n    issuer: " + kIssuer +
              "\n    rootcertbundle: " + workDir + "/token.crt\n";
  }
  r->port_ = ramp::testing::pickFreePort();
  config += "http:\n  addr: 127.0.0.1:" + std::to_string(r->port_) + "\n";
  std::ofstream(workDir + "/config.yml") << config;
  ramp::testing::ProcessOptions p;
  p.argv = {"docker-registry", "serve", workDir + "/config.yml"};
  p.logFile = workDir + "/registry.log";
  auto proc = ramp::testing::Process::start(p);
  if (!proc) return std::unexpected(proc.error());
  r->process_ = std::move(*proc);
  if (!ramp::testing::waitForHttp("http://" + r->host() + "/v2/", std::chrono::milliseconds(15000),
                                  options.tokenAuth ? 401 : 200)) {
    return makeError(ErrorCode::kUnavailable,
                     "docker-registry did not answer /v2/; log:\n" + r->process_->log());
  }
  return r;
}

std::string LocalRegistry::authorization(const std::string& repo) {
  if (!options_.tokenAuth) return "";
  return "Bearer " + mintToken(repo, "pull,push");
}

Result<std::string> LocalRegistry::pushBlob(const std::string& repo, const std::string& bytes) {
  std::string digest = sha256Digest(bytes);
  http::Request post;
  post.method = "POST";
  post.url = "http://" + host() + "/v2/" + repo + "/blobs/uploads/";
  if (auto a = authorization(repo); !a.empty()) post.headers.emplace_back("Authorization", a);
  auto started = http::send(post);
  if (!started) return std::unexpected(started.error());
  if (started->status != 202) {
    return makeError(
        ErrorCode::kInternal,
        "blob upload POST: HTTP " + std::to_string(started->status) + " " + started->body);
  }
  std::string location = started->header("Location");
  if (location.starts_with("/")) location = "http://" + host() + location;
  http::Request put;
  put.method = "PUT";
  put.url = location + (location.find('?') == std::string::npos ? "?" : "&") +
            "digest=" + http::urlEncode(digest);
  put.body = bytes;
  put.headers = post.headers;
  put.headers.emplace_back("Content-Type", "application/octet-stream");
  auto done = http::send(put);
  if (!done) return std::unexpected(done.error());
  if (done->status != 201) {
    return makeError(ErrorCode::kInternal,
                     "blob upload PUT: HTTP " + std::to_string(done->status) + " " + done->body);
  }
  return digest;
}

Result<std::string> LocalRegistry::pushManifest(const std::string& repo,
                                                const std::string& reference,
                                                const std::string& bytes,
                                                const std::string& mediaType) {
  http::Request put;
  put.method = "PUT";
  put.url = "http://" + host() + "/v2/" + repo + "/manifests/" + reference;
  put.body = bytes;
  put.headers.emplace_back("Content-Type", mediaType);
  if (auto a = authorization(repo); !a.empty()) put.headers.emplace_back("Authorization", a);
  auto r = http::send(put);
  if (!r) return std::unexpected(r.error());
  if (r->status != 201) {
    return makeError(ErrorCode::kInternal, "manifest PUT " + reference + ": HTTP " +
                                               std::to_string(r->status) + " " + r->body);
  }
  return sha256Digest(bytes);
}

Result<std::string> LocalRegistry::pushImage(const std::string& repo, const std::string& tag,
                                             const std::string& salt) {
  std::string config = R"({"architecture":"amd64","os":"linux","config":{"Labels":{"salt":")" +
                       salt + R"("}},"rootfs":{"type":"layers","diff_ids":[]}})";
  std::string layer = "layer bytes of " + salt;
  auto c = pushBlob(repo, config);
  if (!c) return c;
  auto l = pushBlob(repo, layer);
  if (!l) return l;
  Manifest m;
  m.mediaType = std::string(kOciManifestType);
  m.config = Descriptor{
      "application/vnd.oci.image.config.v1+json", *c, static_cast<int64_t>(config.size()), "", {}};
  m.layers.push_back(Descriptor{
      "application/vnd.oci.image.layer.v1.tar", *l, static_cast<int64_t>(layer.size()), "", {}});
  return pushManifest(repo, tag, encodeManifest(m), m.mediaType);
}

Status LocalRegistry::pushLegacySignature(
    const std::string& repo, const std::string& digest,
    const std::vector<std::pair<std::string, std::string>>& signatures,
    const std::vector<std::map<std::string, std::string>>& annotations) {
  std::string config = R"({"architecture":"","os":"","config":{},"rootfs":{"type":"layers"}})";
  auto c = pushBlob(repo, config);
  if (!c) return std::unexpected(c.error());
  Manifest m;
  m.mediaType = std::string(kOciManifestType);
  m.config = Descriptor{
      "application/vnd.oci.image.config.v1+json", *c, static_cast<int64_t>(config.size()), "", {}};
  for (size_t i = 0; i < signatures.size(); ++i) {
    const auto& [payload, sig] = signatures[i];
    auto l = pushBlob(repo, payload);
    if (!l) return std::unexpected(l.error());
    std::map<std::string, std::string> layerAnnotations = {
        {"dev.cosignproject.cosign/signature", sig}};
    if (i < annotations.size())
      layerAnnotations.insert(annotations[i].begin(), annotations[i].end());
    m.layers.push_back(Descriptor{"application/vnd.dev.cosign.simplesigning.v1+json", *l,
                                  static_cast<int64_t>(payload.size()), "", layerAnnotations});
  }
  auto d = pushManifest(repo, digestTag(digest) + ".sig", encodeManifest(m), m.mediaType);
  if (!d) return std::unexpected(d.error());
  return {};
}

Status LocalRegistry::pushBundleReferrer(const std::string& repo, const std::string& digest,
                                         const std::string& bundle) {
  constexpr const char* kBundleType = "application/vnd.dev.sigstore.bundle.v0.3+json";
  auto empty = pushBlob(repo, "{}");
  if (!empty) return std::unexpected(empty.error());
  auto layer = pushBlob(repo, bundle);
  if (!layer) return std::unexpected(layer.error());
  Manifest m;
  m.mediaType = std::string(kOciManifestType);
  m.artifactType = kBundleType;
  m.config = Descriptor{std::string(kOciEmptyType), *empty, 2, "", {}};
  m.layers.push_back(Descriptor{kBundleType, *layer, static_cast<int64_t>(bundle.size()), "", {}});
  m.subject = Descriptor{std::string(kOciManifestType), digest, 0, "", {}};
  std::string bytes = encodeManifest(m);
  auto d = pushManifest(repo, sha256Digest(bytes), bytes, m.mediaType);
  if (!d) return std::unexpected(d.error());
  Manifest index;
  index.isIndex = true;
  index.mediaType = std::string(kOciIndexType);
  std::string& known = referrerIndexes_[repo + "@" + digest];
  if (!known.empty()) index = *parseManifest(known);
  index.manifests.push_back(
      Descriptor{m.mediaType, *d, static_cast<int64_t>(bytes.size()), kBundleType, {}});
  known = encodeManifest(index);
  auto i = pushManifest(repo, digestTag(digest), known, index.mediaType);
  if (!i) return std::unexpected(i.error());
  return {};
}

}  // namespace ramp::supply::testing
