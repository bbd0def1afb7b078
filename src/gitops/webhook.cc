#include "gitops/webhook.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cctype>
#include <nlohmann/json.hpp>

namespace ramp::gitops {
namespace {

using nlohmann::json;

std::string header(const std::map<std::string, std::string>& headers, const char* name) {
  auto it = headers.find(name);
  return it == headers.end() ? "" : it->second;
}

std::string hmacHex(std::string_view secret, std::string_view body) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(body.data()), body.size(), mac, &len);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out += kHex[mac[i] >> 4];
    out += kHex[mac[i] & 0xf];
  }
  return out;
}

bool equalConstantTime(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

Status checkSignature(const std::string& provider,
                      const std::map<std::string, std::string>& headers, std::string_view body,
                      std::string_view secret) {
  if (secret.empty()) return {};
  bool ok = false;
  if (provider == "github") {
    std::string sig = header(headers, "x-hub-signature-256");
    ok = sig.starts_with("sha256=") && equalConstantTime(sig.substr(7), hmacHex(secret, body));
  } else if (provider == "gitea") {
    ok = equalConstantTime(header(headers, "x-gitea-signature"), hmacHex(secret, body));
  } else if (provider == "gitlab") {
    ok = equalConstantTime(header(headers, "x-gitlab-token"), secret);
  }
  if (!ok) {
    return makeError(ErrorCode::kUnauthenticated,
                     provider + " webhook: missing or wrong signature (the secret differs)");
  }
  return {};
}

void addString(const json& j, const char* key, std::vector<std::string>& out) {
  auto it = j.find(key);
  if (it != j.end() && it->is_string() && !it->get<std::string>().empty()) {
    out.push_back(it->get<std::string>());
  }
}

std::string normalised(std::string_view url) {
  std::string s(url);
  if (size_t scheme = s.find("://"); scheme != std::string::npos) {
    s = s.substr(scheme + 3);
  } else if (size_t colon = s.find(':'); colon != std::string::npos && s.find('/') > colon) {
    s[colon] = '/';  // git@host:path -> git@host/path
  }
  const size_t slash = s.find('/');
  if (size_t at = s.rfind('@', slash); at != std::string::npos && at < slash) s = s.substr(at + 1);
  while (s.ends_with("/")) s.pop_back();
  if (s.ends_with(".git")) s.resize(s.size() - 4);
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

Result<PushEvent> decodePushWebhook(const std::map<std::string, std::string>& headers,
                                    std::string_view body, std::string_view secret) {
  PushEvent e;
  std::string kind;
  if (!(kind = header(headers, "x-github-event")).empty()) {
    e.provider = "github";
  } else if (!(kind = header(headers, "x-gitea-event")).empty()) {
    e.provider = "gitea";
  } else if (!(kind = header(headers, "x-gitlab-event")).empty()) {
    e.provider = "gitlab";
  } else {
    return makeError(ErrorCode::kUnsupported,
                     "not a GitHub, Gitea or GitLab webhook (no X-GitHub-Event, X-Gitea-Event or "
                     "X-Gitlab-Event header)");
  }
  if (body.size() > kMaxWebhookBytes) {
    return makeError(ErrorCode::kInvalidArgument, "webhook body larger than 1 MiB");
  }
  if (auto ok = checkSignature(e.provider, headers, body, secret); !ok) {
    return std::unexpected(ok.error());
  }
  if (kind != "push" && kind != "Push Hook") {
    return makeError(ErrorCode::kUnsupported, e.provider + " event \"" + kind + "\" ignored");
  }
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return makeError(ErrorCode::kInvalidArgument, e.provider + " push: body is not a JSON object");
  }
  auto ref = j.find("ref");
  if (ref != j.end() && ref->is_string()) e.ref = ref->get<std::string>();
  auto after = j.find("after");
  if (after != j.end() && after->is_string()) e.after = after->get<std::string>();
  auto repo = j.find(e.provider == "gitlab" ? "project" : "repository");
  if (repo == j.end() || !repo->is_object()) {
    return makeError(ErrorCode::kInvalidArgument,
                     e.provider + " push: no " +
                         (e.provider == "gitlab" ? "project" : "repository") + " object");
  }
  for (const char* key :
       {"clone_url", "ssh_url", "html_url", "git_http_url", "git_ssh_url", "web_url", "url"}) {
    addString(*repo, key, e.repoURLs);
  }
  if (e.repoURLs.empty()) {
    return makeError(ErrorCode::kInvalidArgument, e.provider + " push: the repository has no URL");
  }
  return e;
}

bool sameRepository(std::string_view a, std::string_view b) {
  return normalised(a) == normalised(b);
}

}  // namespace ramp::gitops
