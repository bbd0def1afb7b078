// Fuzzes the one Go-duration parser (common/go_duration.h) with arbitrary bytes. Any crash or
// sanitizer report is a bug; so is an error that is not Go's "time: " message, or a parsed
// duration that does not survive formatGoDuration and parseGoDuration unchanged.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "common/go_duration.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto d = ramp::parseGoDuration(text);
  if (!d) {
    if (d.error().message.rfind("time: ", 0) != 0) std::abort();
    return 0;
  }
  const std::string formatted = ramp::formatGoDuration(*d);
  auto back = ramp::parseGoDuration(formatted);
  if (!back || *back != *d) std::abort();
  (void)ramp::parseGoDurationMillis(text);
  return 0;
}
