#pragma once

// SecretDir: a SecretSource backed by a directory tree, for plain hosts.
//
//   <root>/<namespace>/<secretName>/<key>     (the file's bytes are the value)
//
// The layout mirrors a Kubernetes Secret mounted as a volume, one directory per namespace. A
// value read from a file keeps its bytes exactly, except that one trailing "\n" is dropped
// (editors add it; Kubernetes secrets created with --from-literal have none).
//
// Thread safety: stateless after construction; get() may be called concurrently.

#include <filesystem>
#include <string>

#include "ramp/analysis/secret_source.h"

namespace ramp::analysis {

class SecretDir final : public SecretSource {
 public:
  explicit SecretDir(std::filesystem::path root) : root_(std::move(root)) {}

  // See SecretSource::get. Names containing "/" or equal to "." or ".." are rejected with
  // kInvalidArgument, so a manifest cannot read files outside the root.
  Result<std::string> get(std::string_view ns, std::string_view name,
                          std::string_view key) const override;

 private:
  std::filesystem::path root_;
};

}  // namespace ramp::analysis
