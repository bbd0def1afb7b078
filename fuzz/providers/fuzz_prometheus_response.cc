// Fuzzes the Prometheus HTTP API response decoder with arbitrary bodies. Invariant: a decoded
// value is a float or a list of floats.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "analysis/providers/prometheus/prometheus_provider.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  auto r = ramp::analysis::providers::parsePrometheusResponse(body);
  if (!r) return 0;
  if (r->value.isList()) {
    for (const auto& v : r->value.asList()) {
      if (!v.isFloat()) std::abort();
    }
  } else if (!r->value.isFloat()) {
    std::abort();
  }
  return 0;
}
