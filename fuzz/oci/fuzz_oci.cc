// Fuzzes what src/supply reads from a registry or a user: image references, manifests and
// indexes, WWW-Authenticate challenges, token answers and Docker config files. Each must decode or
// fail with an Error, never crash; a reference or manifest that decodes must encode and decode to
// itself.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "supply/oci_client.h"
#include "supply/oci_manifest.h"
#include "supply/oci_reference.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ramp::supply;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto r = parseImageReference(text)) {
    auto again = parseImageReference(r->str());
    if (!again || !(*again == *r)) std::abort();
  }
  if (auto m = parseManifest(text)) {
    auto again = parseManifest(encodeManifest(*m));
    if (!again || !(*again == *m)) std::abort();
  }
  (void)parseManifest(text, "application/vnd.oci.image.index.v1+json");
  (void)parseAuthChallenge(text);
  (void)parseTokenResponse(text);
  if (auto c = parseDockerConfig(text)) {
    for (const auto& [host, cred] : *c) {
      if (host != normalizeRegistryHost(host)) std::abort();  // keys come out normalized
    }
  }
  (void)checkDigest(text, sha256Digest(text));
  return 0;
}
