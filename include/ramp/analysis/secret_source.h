#pragma once

// SecretSource: where the values of `valueFrom.secretKeyRef` analysis arguments come from.
//
// Argo reads a Kubernetes Secret in the AnalysisRun's namespace when a measurement is taken; ramp
// reads the same (namespace, secret name, key) triple from whatever source the platform offers:
// a directory of files on plain hosts (src/analysis/secret_dir.h), the Kubernetes API later.
// The analysis engine never stores or logs a value it got from here: it hides every such value
// as "*****" in measurement messages and logs.
//
// Thread safety: get() may be called from several threads at once.

#include <string>
#include <string_view>

#include "ramp/error.h"

namespace ramp::analysis {

class SecretSource {
 public:
  virtual ~SecretSource() = default;

  // Returns the value stored under `key` in secret `name` of namespace `ns`.
  // On error returns kNotFound with Argo's wording: `secrets "<name>" not found` when the secret
  // does not exist, `key '<key>' does not exist in secret '<name>'` when the key does not;
  // another code (kPermissionDenied, kUnavailable) when the source cannot be read.
  virtual Result<std::string> get(std::string_view ns, std::string_view name,
                                  std::string_view key) const = 0;
};

}  // namespace ramp::analysis
