#pragma once

// Push webhooks from Git servers, as Argo CD's webhook handler reads them: a push names the
// repository (its clone, SSH and web URLs) and the ref; the agent then refreshes the
// Applications reading that repository instead of waiting for the poll. Payloads are never
// trusted: the signature is checked before the body is parsed, the body is bounded, and every
// field is optional.
//
//   GitHub  X-GitHub-Event: push,      X-Hub-Signature-256: sha256=HEX(HMAC-SHA256(secret, body))
//   Gitea   X-Gitea-Event: push,       X-Gitea-Signature: HEX(HMAC-SHA256(secret, body))
//   GitLab  X-Gitlab-Event: Push Hook, X-Gitlab-Token: secret
//
// Pure functions (OpenSSL's HMAC, compared in constant time); thread-safe. Fuzzed by
// fuzz/gitops (fuzz_gitops_webhook).

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "ramp/error.h"

namespace ramp::gitops {

inline constexpr size_t kMaxWebhookBytes = 1 << 20;

struct PushEvent {
  std::string provider;               // github, gitea, gitlab
  std::vector<std::string> repoURLs;  // every URL the payload gives for the repository
  std::string ref;                    // "refs/heads/main"
  std::string after;                  // the new commit ("" when not given)
  bool operator==(const PushEvent&) const = default;
};

// Decodes a push. `headers` are keyed in lower case. `secret` "" = no check (refused unless the
// caller allows unsigned webhooks). Errors: kUnauthenticated for a missing or wrong signature or
// token, kInvalidArgument for a body that is not a push payload (the message says which field),
// kUnsupported for another event type or an unknown provider (the reply is then 2xx-ignored).
Result<PushEvent> decodePushWebhook(const std::map<std::string, std::string>& headers,
                                    std::string_view body, std::string_view secret);

// Whether an Application's repoURL and a pushed URL name the same repository: compared without
// scheme, userinfo, a trailing ".git" or '/', and case (Argo CD's sameURL), and
// "git@host:path" equals "ssh://git@host/path".
bool sameRepository(std::string_view a, std::string_view b);

}  // namespace ramp::gitops
