// fuzz_spec: any bytes as a manifest file. Decoding and validation must never crash or hang,
// and every object that decodes must survive the JSON round trip unchanged:
//   fromJson(toJson(x)) == x   and   toJson(fromJson(toJson(x))) == toJson(x),
// and a Rollout's head plus its status, written without the DOM, is toJson's text byte for byte.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <variant>

#include "spec/codec.h"
#include "spec/validation.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  ramp::spec::DecodeLimits limits;
  limits.maxNodes = 100000;  // keep each input fast under the sanitizers
  ramp::spec::LintResult result = ramp::spec::lintText(text, "fuzz.yaml", limits);
  for (const ramp::spec::Document& doc : result.documents) {
    std::string json = ramp::spec::toJson(doc.object);
    ramp::spec::Decoded<ramp::spec::Object> back = ramp::spec::objectFromJson(json);
    if (!back.value || !(*back.value == doc.object)) std::abort();
    if (ramp::spec::toJson(*back.value) != json) std::abort();
    if (const auto* r = std::get_if<ramp::spec::Rollout>(&doc.object)) {
      const std::string head = ramp::spec::rolloutJsonHead(*r);
      if (ramp::spec::rolloutJsonWithStatus(head, r->status) != ramp::spec::toJson(*r))
        std::abort();
    }
  }
  // The JSON entry point sees the same bytes too.
  (void)ramp::spec::objectFromJson(text);
  return 0;
}
