#pragma once

// The Merkle tree of ramp's audit log, as RFC 6962 / RFC 9162 (Certificate Transparency, Rekor,
// Trillian) define it, so any of their verifiers can check ramp's proofs: leaf hash
// SHA-256(0x00 || entry), node hash SHA-256(0x01 || left || right), a tree of n leaves split at
// the largest power of two below n. Pure functions over leaf hashes: the tree head, inclusion
// proofs and consistency proofs, and their verification (tested against RFC 6962's published
// vectors).
//
// Thread safety: pure functions.

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ramp/error.h"

namespace ramp::audit {

using Hash = std::array<uint8_t, 32>;

Hash sha256(std::string_view data);
Hash leafHash(std::string_view entry);
Hash nodeHash(const Hash& left, const Hash& right);

// The tree head of the first `leaves.size()` leaves (SHA-256 of "" for none).
Hash treeHead(std::span<const Hash> leaves);

// The right edge of a growing tree: the roots of its perfect subtrees, largest first (one per
// set bit of its size, so at most 64 hashes however many leaves), which is all that appending a
// leaf and computing the tree head need. For a writer that signs tree heads as its log grows
// without keeping every leaf hash.
//
// Thread safety: none (the owner guards it).
class TreeFrontier {
 public:
  void append(const Hash& leaf);
  uint64_t size() const { return size_; }
  // treeHead() of every leaf appended.
  Hash head() const;

 private:
  std::vector<Hash> roots_;
  uint64_t size_ = 0;
};

// The audit path of leaf `index` in the tree of `leaves`. Errors: kInvalidArgument when index is
// out of range.
Result<std::vector<Hash>> inclusionProof(std::span<const Hash> leaves, uint64_t index);

// The proof that the tree of the first `oldSize` leaves is a prefix of the tree of `leaves`.
// Errors: kInvalidArgument unless 0 < oldSize <= leaves.size().
Result<std::vector<Hash>> consistencyProof(std::span<const Hash> leaves, uint64_t oldSize);

// Checks that `leaf` is entry `index` of the tree of `size` leaves whose head is `root`.
// Errors: kInvalidArgument naming what does not hold.
Status verifyInclusion(const Hash& leaf, uint64_t index, uint64_t size, std::span<const Hash> proof,
                       const Hash& root);

// Checks that the tree (oldSize, oldRoot) is a prefix of (newSize, newRoot). Errors:
// kInvalidArgument naming what does not hold.
Status verifyConsistency(uint64_t oldSize, uint64_t newSize, const Hash& oldRoot,
                         const Hash& newRoot, std::span<const Hash> proof);

std::string toHex(const Hash& h);
// Errors: kInvalidArgument unless 64 hex digits.
Result<Hash> fromHex(std::string_view hex);

}  // namespace ramp::audit
