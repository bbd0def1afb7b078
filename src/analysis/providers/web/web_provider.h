#pragma once

// The web metric provider (Argo's `provider.web`): sends one HTTP request (GET, POST or PUT)
// and returns the value at `jsonPath` in the JSON response for the metric's conditions —
// numbers as floats, strings, bools, maps, lists, null as nil — or the raw body as a string
// when the response is not JSON.
//
// Thread safety: a WebProvider holds only configuration; run() may be called from many threads
// at once. run() blocks for at most timeoutSeconds (default 10 s).

#include <string>
#include <string_view>

#include "ramp/analysis/metric_provider.h"
#include "ramp/error.h"
#include "ramp/value.h"

namespace ramp {
class Redactor;
}

namespace ramp::analysis::providers {

struct WebResponse {
  Value value;
  std::string display;  // Argo's Measurement.value: the selected value as compact JSON
};

// Decodes a response body with `jsonPath` ("" = "{$}"). A body that is not JSON is returned as
// a string. Errors: kParse/kUnsupported for a bad jsonPath, kNotFound when the path selects
// nothing ("Could not find JSONPath in body: …" or "result of web metric produced no value"),
// kInvalidArgument for JSON nested deeper than 512 levels. Pure function.
Result<WebResponse> parseWebResponse(std::string_view body, std::string_view jsonPath);

// Same as parseWebResponse but returns only the value (the fuzzing entry point).
Result<Value> decodeWebResponse(std::string_view body, std::string_view jsonPath);

class WebProvider final : public MetricProvider {
 public:
  struct Options {
    const Redactor* redactor = nullptr;  // secrets hidden from error messages (may be null)
  };

  explicit WebProvider(Options options) : options_(options) {}

  // Sends the request. On success returns kValue with the decoded value and displayValue. On
  // error (bad config, unreachable, timeout, non-2xx, path not found) returns an Error naming
  // the method, URL and reason, with secrets redacted.
  Result<ProviderReply> run(const MeasureContext& ctx) override;

  std::string type() const override { return "Web"; }

 private:
  Options options_;
};

}  // namespace ramp::analysis::providers
