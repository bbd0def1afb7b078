#pragma once

// CompactText: a text kept deflated in memory (zlib, raw deflate with a preset dictionary of the
// keys and values Kubernetes and Argo Rollouts objects repeat), for caches that hold many JSON
// objects and read each one rarely — the Kubernetes store's mirror of the cluster, the
// platform's ReplicaSets. A 2 KiB Rollout takes about a fifth of that; reading it back costs a
// few microseconds. A text that would not shrink is kept as it is.
//
// Thread safety: immutable once made; const methods may be called from any thread.

#include <cstdint>
#include <string>
#include <string_view>

namespace ramp {

class CompactText {
 public:
  CompactText() = default;
  explicit CompactText(std::string_view text);

  // The text it was made from, byte for byte.
  std::string text() const;
  // The text's size, and the bytes kept for it.
  size_t size() const { return size_; }
  size_t compactSize() const { return bytes_.size(); }
  bool empty() const { return size_ == 0; }

 private:
  std::string bytes_;  // the raw deflate stream, or the text itself when !deflated_
  uint32_t size_ = 0;
  bool deflated_ = false;
};

}  // namespace ramp
