// Fuzzes the web provider's decoder: the first line of the input is the jsonPath, the rest is
// the response body. Invariant: no crash, and a non-JSON body comes back as itself.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "analysis/providers/web/web_provider.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto nl = input.find('\n');
  std::string_view path = nl == std::string_view::npos ? input : input.substr(0, nl);
  std::string_view body = nl == std::string_view::npos ? "" : input.substr(nl + 1);
  auto r = ramp::analysis::providers::parseWebResponse(body, path);
  if (r && r->value.isString() && r->display != r->value.asString() && r->display.front() != '"') {
    std::abort();
  }
  return 0;
}
