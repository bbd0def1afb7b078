#pragma once

// FakeImageVerifier: an ImageVerifier whose answers the test sets by image. An image in
// `signedImages` is allowed and pinned to digestOf(image), as RegistryImageVerifier pins a
// verified image; any other is refused under the policy "test-policy". Counts the calls per
// image, so a test sees when the controller asked (and when it used what it already knew).
//
// Thread-safe: one mutex around the fields; set them under the test's own synchronization when
// the controller runs on threads.

#include <cstdio>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <string_view>

#include "ramp/supply/image_verifier.h"

namespace ramp::testing {

class FakeImageVerifier final : public supply::ImageVerifier {
 public:
  // A stable, made-up digest per image ("sha256:" and 64 hex digits).
  static std::string digestOf(std::string_view image) {
    const size_t h = std::hash<std::string_view>{}(image);
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016zx", h);
    return "sha256:" + std::string(hex) + std::string(hex) + std::string(hex) + std::string(hex);
  }

  supply::ImageVerdict verify(std::string_view image) override {
    std::lock_guard lock(mu);
    ++calls[std::string(image)];
    supply::ImageVerdict v;
    v.image = std::string(image);
    v.policy = "test-policy";
    if (signedImages.count(v.image) != 0) {
      v.allowed = true;
      v.digest = digestOf(image);
      v.pinnedImage = v.image + "@" + v.digest;
      v.authority = "test-key";
      v.reason = "image " + v.image + " (" + v.digest +
                 ") verified by authority test-key of ClusterImagePolicy test-policy";
    } else {
      v.reason = "image " + v.image +
                 " is not verified by ClusterImagePolicy test-policy; test-key: no signature";
    }
    return v;
  }

  int callsFor(const std::string& image) {
    std::lock_guard lock(mu);
    return calls[image];
  }

  std::mutex mu;
  std::set<std::string> signedImages;
  std::map<std::string, int> calls;
};

}  // namespace ramp::testing
