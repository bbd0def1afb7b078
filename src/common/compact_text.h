#pragma once

// CompactText: a text kept deflated in memory (zlib, raw deflate with a preset dictionary of the
// keys and values Kubernetes and Argo Rollouts objects repeat), for caches that hold many JSON
// objects and read each one rarely — the Kubernetes store's mirror of the cluster, the
// platform's ReplicaSets. A 2 KiB Rollout takes about a fifth of that; reading it back costs a
// few microseconds. A text that would not shrink is kept as it is.
//
// Thread safety: immutable once made; const methods may be called from any thread.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace ramp {

class CompactText {
 public:
  CompactText() = default;
  // Throws std::length_error for a text of 4 GiB or more (a Kubernetes object is at most a
  // few MiB).
  explicit CompactText(std::string_view text);
  CompactText(const CompactText& other);
  CompactText& operator=(const CompactText& other);
  CompactText(CompactText&&) noexcept = default;
  CompactText& operator=(CompactText&&) noexcept = default;
  ~CompactText() = default;

  // The text it was made from, byte for byte.
  std::string text() const;
  // The text's size, and the bytes kept for it.
  size_t size() const { return size_; }
  size_t compactSize() const { return compactSize_; }
  bool empty() const { return size_ == 0; }

  // The bytes kept (a raw deflate stream when compactSize() < size(), else the text itself), and
  // a CompactText made from them again without deflating anything: for a cache that moves its
  // texts to new memory (common/repack_buffer.h). fromStored() takes what stored() and size()
  // gave; throws std::invalid_argument for a pair no CompactText has (`stored` longer than
  // `size`, or empty for a text that is not).
  std::string_view stored() const { return {bytes_.get(), compactSize_}; }
  static CompactText fromStored(std::string_view stored, size_t size);

 private:
  // Sixteen bytes besides the kept ones: caches hold tens of thousands of these.
  std::unique_ptr<char[]> bytes_;  // the raw deflate stream, or the text itself
  uint32_t size_ = 0;
  uint32_t compactSize_ = 0;  // < size_ exactly when bytes_ is a deflate stream

  void keep(std::string_view bytes);  // copies `bytes` into bytes_
};

}  // namespace ramp
