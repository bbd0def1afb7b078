// Fuzzes what keyless verification reads: a trusted_root.json, a Sigstore bundle, a legacy
// keyless signature's annotations, and certificates (DER and PEM) with their Fulcio identity.
// An input holding "\n--root--\n" is split into a trusted root and a bundle, which are then
// verified end to end (any identity). Everything must decode or fail with an Error, never crash.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "supply/fulcio_cert.h"
#include "supply/keyless_verify.h"
#include "supply/sigstore_bundle.h"
#include "supply/trusted_root.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ramp::supply;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  static const std::vector<IdentityMatcher> anyone = {{"", "", ".*", ".*"}};
  (void)parseKeylessBundle(text);
  for (auto cert : {Certificate::fromDer(text), Certificate::fromPem(text)}) {
    if (cert) (void)certificateIdentity(*cert);
  }
  constexpr std::string_view kSplit = "\n--root--\n";
  size_t split = text.find(kSplit);
  if (split == std::string_view::npos) {
    (void)parseTrustedRoot(text);
    size_t nl = text.find('\n');
    if (nl != std::string_view::npos) {
      // payload \n signature \n certificate PEM … : a legacy layer's parts.
      std::string_view rest = text.substr(nl + 1);
      size_t nl2 = rest.find('\n');
      (void)parseLegacyKeyless(text.substr(0, nl), rest.substr(0, nl2),
                               nl2 == std::string_view::npos ? "" : rest.substr(nl2 + 1), "",
                               rest.substr(0, nl2));
    }
    return 0;
  }
  auto root = parseTrustedRoot(text.substr(0, split));
  auto bundle = parseKeylessBundle(text.substr(split + kSplit.size()));
  if (root && bundle) {
    (void)verifyKeyless(*bundle, **root, anyone);
    (void)verifyKeyless(*bundle, **root, anyone, KeylessOptions{.ignoreSct = true});
  }
  return 0;
}
