#pragma once

// RepackBuffer: what a cache holds, kept in one large block while the cache frees its objects
// and makes them again ("repacking"). A cache that has been through many updates (a start-up
// sync of thousands of objects, a burst of releases) leaves what survives scattered over partly
// used allocator pages, each kept resident for a few small objects among the garbage the updates
// freed. Freeing every object first and then allocating them again in a row packs them into as
// few pages as they need, and the allocator gives the emptied ones back. Holding them meanwhile
// in one large allocation — not in the small size classes they come from — is what lets their
// old pages empty.
//
// Written with put()/putNumber(), read back in the same order with take()/takeNumber().
//
// Thread safety: none; one owner, under the cache's own lock.

#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>

namespace ramp {

class RepackBuffer {
 public:
  // `reserve`: the bytes to be written, if known (one allocation instead of a growing one).
  explicit RepackBuffer(size_t reserve = 0) { data_.reserve(reserve); }

  void put(std::string_view bytes) {
    putNumber(bytes.size());
    data_.append(bytes);
  }
  void putNumber(uint64_t n) { data_.append(reinterpret_cast<const char*>(&n), sizeof n); }
  // The bytes put() takes for `bytes` (to size the buffer beforehand).
  static size_t sizeOf(std::string_view bytes) { return sizeof(uint64_t) + bytes.size(); }

  // The next bytes, valid while the buffer lives. Throws std::out_of_range past the end (a
  // reader out of step with its writer).
  std::string_view take() {
    const uint64_t n = takeNumber();
    if (n > data_.size() - read_) throw std::out_of_range("RepackBuffer: read past the end");
    std::string_view out(data_.data() + read_, n);
    read_ += n;
    return out;
  }
  uint64_t takeNumber() {
    uint64_t n = 0;
    if (data_.size() - read_ < sizeof n) throw std::out_of_range("RepackBuffer: read past the end");
    std::memcpy(&n, data_.data() + read_, sizeof n);
    read_ += sizeof n;
    return n;
  }
  bool done() const { return read_ == data_.size(); }

 private:
  std::string data_;
  size_t read_ = 0;
};

}  // namespace ramp
