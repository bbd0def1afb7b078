#include "audit/merkle.h"

#include <openssl/evp.h>

namespace ramp::audit {
namespace {

Hash digest(std::initializer_list<std::string_view> parts) {
  Hash out{};
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  for (std::string_view p : parts) EVP_DigestUpdate(ctx, p.data(), p.size());
  unsigned int n = 0;
  EVP_DigestFinal_ex(ctx, out.data(), &n);
  EVP_MD_CTX_free(ctx);
  return out;
}

std::string_view view(const Hash& h) { return {reinterpret_cast<const char*>(h.data()), h.size()}; }

// The largest power of two strictly below n (n >= 2).
uint64_t split(uint64_t n) {
  uint64_t k = 1;
  while (k << 1 < n) k <<= 1;
  return k;
}

void path(std::span<const Hash> d, uint64_t m, std::vector<Hash>& out) {
  if (d.size() <= 1) return;
  uint64_t k = split(d.size());
  if (m < k) {
    path(d.subspan(0, k), m, out);
    out.push_back(treeHead(d.subspan(k)));
  } else {
    path(d.subspan(k), m - k, out);
    out.push_back(treeHead(d.subspan(0, k)));
  }
}

void subproof(std::span<const Hash> d, uint64_t m, bool whole, std::vector<Hash>& out) {
  const uint64_t n = d.size();
  if (m == n) {
    if (!whole) out.push_back(treeHead(d));
    return;
  }
  uint64_t k = split(n);
  if (m <= k) {
    subproof(d.subspan(0, k), m, whole, out);
    out.push_back(treeHead(d.subspan(k)));
  } else {
    subproof(d.subspan(k), m - k, false, out);
    out.push_back(treeHead(d.subspan(0, k)));
  }
}

std::unexpected<Error> invalid(const std::string& what) {
  return makeError(ErrorCode::kInvalidArgument, what);
}

}  // namespace

Hash sha256(std::string_view data) { return digest({data}); }

Hash leafHash(std::string_view entry) {
  static const char kZero = 0x00;
  return digest({std::string_view(&kZero, 1), entry});
}

Hash nodeHash(const Hash& left, const Hash& right) {
  static const char kOne = 0x01;
  return digest({std::string_view(&kOne, 1), view(left), view(right)});
}

Hash treeHead(std::span<const Hash> leaves) {
  if (leaves.empty()) return sha256("");
  if (leaves.size() == 1) return leaves[0];
  uint64_t k = split(leaves.size());
  return nodeHash(treeHead(leaves.subspan(0, k)), treeHead(leaves.subspan(k)));
}

void TreeFrontier::append(const Hash& leaf) {
  // Each trailing one bit of the size is a perfect subtree as large as the one the leaf
  // completes: merge them, smallest first.
  Hash h = leaf;
  for (uint64_t s = size_; (s & 1) != 0; s >>= 1) {
    h = nodeHash(roots_.back(), h);
    roots_.pop_back();
  }
  roots_.push_back(h);
  ++size_;
}

Hash TreeFrontier::head() const {
  if (roots_.empty()) return sha256("");
  // RFC 6962 splits at the largest power of two below the size: the largest subtree on the left,
  // the tree of the rest on the right, folded from the smallest.
  Hash h = roots_.back();
  for (size_t i = roots_.size() - 1; i-- > 0;) h = nodeHash(roots_[i], h);
  return h;
}

Result<std::vector<Hash>> inclusionProof(std::span<const Hash> leaves, uint64_t index) {
  if (index >= leaves.size()) {
    return invalid("inclusion proof: leaf " + std::to_string(index) + " is not in a tree of " +
                   std::to_string(leaves.size()));
  }
  std::vector<Hash> out;
  path(leaves, index, out);
  return out;
}

Result<std::vector<Hash>> consistencyProof(std::span<const Hash> leaves, uint64_t oldSize) {
  if (oldSize == 0 || oldSize > leaves.size()) {
    return invalid("consistency proof: size " + std::to_string(oldSize) + " is not between 1 and " +
                   std::to_string(leaves.size()));
  }
  std::vector<Hash> out;
  if (oldSize < leaves.size()) subproof(leaves, oldSize, true, out);
  return out;
}

Status verifyInclusion(const Hash& leaf, uint64_t index, uint64_t size, std::span<const Hash> proof,
                       const Hash& root) {
  if (index >= size) {
    return invalid("inclusion: index " + std::to_string(index) + " is beyond tree size " +
                   std::to_string(size));
  }
  uint64_t fn = index, sn = size - 1;
  Hash r = leaf;
  for (const Hash& p : proof) {
    if (sn == 0) return invalid("inclusion: the proof is longer than the tree is deep");
    if ((fn & 1) != 0 || fn == sn) {
      r = nodeHash(p, r);
      while ((fn & 1) == 0 && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      r = nodeHash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) return invalid("inclusion: the proof is shorter than the tree is deep");
  if (r != root) return invalid("inclusion: the proof does not lead to the tree head");
  return {};
}

Status verifyConsistency(uint64_t oldSize, uint64_t newSize, const Hash& oldRoot,
                         const Hash& newRoot, std::span<const Hash> proof) {
  if (oldSize > newSize) return invalid("consistency: the old tree is larger than the new one");
  if (oldSize == newSize) {
    if (!proof.empty()) return invalid("consistency: a proof between equal sizes must be empty");
    if (oldRoot != newRoot) return invalid("consistency: equal sizes with different heads");
    return {};
  }
  if (oldSize == 0) return invalid("consistency: the old tree is empty");
  if (proof.empty()) return invalid("consistency: the proof is empty");
  std::vector<Hash> c(proof.begin(), proof.end());
  if ((oldSize & (oldSize - 1)) == 0) c.insert(c.begin(), oldRoot);  // a power of two
  uint64_t fn = oldSize - 1, sn = newSize - 1;
  while ((fn & 1) != 0) {
    fn >>= 1;
    sn >>= 1;
  }
  Hash fr = c[0], sr = c[0];
  for (size_t i = 1; i < c.size(); ++i) {
    if (sn == 0) return invalid("consistency: the proof is too long");
    if ((fn & 1) != 0 || fn == sn) {
      fr = nodeHash(c[i], fr);
      sr = nodeHash(c[i], sr);
      while ((fn & 1) == 0 && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      sr = nodeHash(sr, c[i]);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) return invalid("consistency: the proof is too short");
  if (fr != oldRoot) return invalid("consistency: the proof does not lead to the old tree head");
  if (sr != newRoot) return invalid("consistency: the proof does not lead to the new tree head");
  return {};
}

std::string toHex(const Hash& h) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  out.reserve(64);
  for (uint8_t b : h) {
    out += kDigits[b >> 4];
    out += kDigits[b & 15];
  }
  return out;
}

Result<Hash> fromHex(std::string_view hex) {
  if (hex.size() != 64) return invalid("a SHA-256 hash is 64 hex digits");
  Hash out{};
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < 32; ++i) {
    int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return invalid("a SHA-256 hash is 64 hex digits");
    out[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return out;
}

}  // namespace ramp::audit
