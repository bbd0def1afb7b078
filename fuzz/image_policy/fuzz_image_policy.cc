// Fuzzes ClusterImagePolicy files and glob matching: a file decodes to policies or fails with
// an Error naming file:line:column, never crashes; a decoded policy evaluates without results
// to a denial (nothing verified), unless an authority is static pass or the policy warns.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "supply/image_policy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ramp::supply;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto ps = parseImagePolicies(text, "fuzz.yaml")) {
    for (const ImagePolicy& p : *ps) {
      for (const std::string& g : p.globs) {
        if (!validateGlob(g)) std::abort();  // only valid globs are kept
      }
    }
    (void)evaluateImagePolicies(*ps, "registry.example/a/b:c", "", {});
  } else if (ps.error().message.empty()) {
    std::abort();
  }
  size_t split = text.find('\n');
  if (split != std::string_view::npos) {
    (void)globMatches(text.substr(0, split), text.substr(split + 1));
  }
  return 0;
}
