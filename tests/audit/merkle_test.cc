#include "audit/merkle.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ramp::audit {
namespace {

// RFC 6962's test data (the Certificate Transparency reference tree): eight entries and the tree
// heads of their prefixes, its audit paths and consistency proofs.
std::vector<Hash> ctLeaves() {
  const std::vector<std::string> entries = {
      std::string(),
      std::string("\x00", 1),
      std::string("\x10", 1),
      std::string("\x20\x21", 2),
      std::string("\x30\x31", 2),
      std::string("\x40\x41\x42\x43", 4),
      std::string("\x50\x51\x52\x53\x54\x55\x56\x57", 8),
      std::string("\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f", 16)};
  std::vector<Hash> leaves;
  for (const std::string& e : entries) leaves.push_back(leafHash(e));
  return leaves;
}

const char* kRoots[] = {
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

std::vector<Hash> hashes(std::initializer_list<const char*> hex) {
  std::vector<Hash> out;
  for (const char* h : hex) out.push_back(*fromHex(h));
  return out;
}

TEST(Merkle, TreeHeadsMatchRfc6962) {
  auto leaves = ctLeaves();
  for (size_t n = 0; n <= leaves.size(); ++n) {
    EXPECT_EQ(toHex(treeHead(std::span(leaves).subspan(0, n))), kRoots[n]) << "size " << n;
  }
}

// The frontier a writer keeps gives the same head as the whole tree at every size, with at most
// one hash per set bit of the size.
TEST(Merkle, AFrontierGivesTheTreeHeadAtEverySize) {
  std::vector<Hash> leaves;
  TreeFrontier frontier;
  EXPECT_EQ(frontier.head(), treeHead(leaves));
  for (int i = 0; i < 70; ++i) {
    leaves.push_back(leafHash("entry " + std::to_string(i)));
    frontier.append(leaves.back());
    ASSERT_EQ(frontier.size(), leaves.size());
    ASSERT_EQ(toHex(frontier.head()), toHex(treeHead(leaves))) << "size " << leaves.size();
  }
}

TEST(Merkle, ProofsMatchRfc6962) {
  auto leaves = ctLeaves();
  struct Inclusion {
    uint64_t index, size;
    std::vector<Hash> proof;
  };
  const std::vector<Inclusion> inclusion = {
      {0, 8,
       hashes({"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
               "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
               "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"})},
      {5, 8,
       hashes({"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
               "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
               "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"})},
      {0, 1, {}},
  };
  for (const Inclusion& c : inclusion) {
    auto tree = std::span(leaves).subspan(0, c.size);
    EXPECT_EQ(*inclusionProof(tree, c.index), c.proof) << c.index << "/" << c.size;
    EXPECT_TRUE(
        verifyInclusion(leaves[c.index], c.index, c.size, c.proof, *fromHex(kRoots[c.size])));
  }
  struct Consistency {
    uint64_t oldSize, newSize;
    std::vector<Hash> proof;
  };
  const std::vector<Consistency> consistency = {
      {1, 1, {}},
      {1, 8,
       hashes({"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
               "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
               "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"})},
      {6, 8,
       hashes({"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
               "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
               "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"})},
      {2, 5,
       hashes({"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
               "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"})},
  };
  for (const Consistency& c : consistency) {
    auto tree = std::span(leaves).subspan(0, c.newSize);
    EXPECT_EQ(*consistencyProof(tree, c.oldSize), c.proof) << c.oldSize << "->" << c.newSize;
    EXPECT_TRUE(verifyConsistency(c.oldSize, c.newSize, *fromHex(kRoots[c.oldSize]),
                                  *fromHex(kRoots[c.newSize]), c.proof));
  }
}

// Every proof of every tree up to 40 leaves verifies, and changing any byte of a proof, the
// leaf or a head makes it fail.
TEST(Merkle, EveryProofVerifiesAndEveryTamperingFails) {
  std::vector<Hash> leaves;
  for (int i = 0; i < 40; ++i) leaves.push_back(leafHash("entry-" + std::to_string(i)));
  for (uint64_t n = 1; n <= leaves.size(); ++n) {
    auto tree = std::span(leaves).subspan(0, n);
    Hash root = treeHead(tree);
    for (uint64_t i = 0; i < n; ++i) {
      auto proof = *inclusionProof(tree, i);
      ASSERT_TRUE(verifyInclusion(leaves[i], i, n, proof, root)) << i << "/" << n;
      if (n > 1) EXPECT_FALSE(verifyInclusion(leaves[(i + 1) % n], i, n, proof, root));
      if (!proof.empty()) {
        auto bad = proof;
        bad[0][7] ^= 1;
        EXPECT_FALSE(verifyInclusion(leaves[i], i, n, bad, root));
        bad = proof;
        bad.pop_back();
        EXPECT_FALSE(verifyInclusion(leaves[i], i, n, bad, root));
      }
    }
    for (uint64_t m = 1; m <= n; ++m) {
      auto proof = *consistencyProof(tree, m);
      Hash oldRoot = treeHead(tree.subspan(0, m));
      ASSERT_TRUE(verifyConsistency(m, n, oldRoot, root, proof)) << m << "->" << n;
      Hash forged = oldRoot;
      forged[0] ^= 1;
      EXPECT_FALSE(verifyConsistency(m, n, forged, root, proof));
      if (!proof.empty()) {
        auto bad = proof;
        bad.back()[31] ^= 1;
        EXPECT_FALSE(verifyConsistency(m, n, oldRoot, root, bad));
      }
    }
  }
  EXPECT_FALSE(inclusionProof(leaves, 40));
  EXPECT_FALSE(consistencyProof(leaves, 0));
  EXPECT_FALSE(verifyInclusion(leaves[0], 5, 5, {}, treeHead(leaves)));
}

}  // namespace
}  // namespace ramp::audit
