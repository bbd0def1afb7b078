#pragma once

// RegistryImageVerifier: the ImageVerifier of ClusterImagePolicy files (image_policy.h),
// reading cosign signatures from each image's registry (OciClient) and verifying them offline
// (image_gate.h). Holds the parsed policies and one OciClient (its token cache).
//
// Thread safety: verify() may run concurrently (OciClient is thread-safe, the policies are
// read-only).

#include <string>
#include <string_view>
#include <vector>

#include "ramp/error.h"
#include "ramp/supply/image_verifier.h"
#include "supply/image_policy.h"
#include "supply/oci_client.h"

namespace ramp::supply {

// `image` pinned to `digest`: any "@…" already written is replaced, the rest (tag included) is
// kept as written, so "nginx:1.25" becomes "nginx:1.25@sha256:…" (runtimes pull by the digest).
std::string pinImage(std::string_view image, std::string_view digest);

class RegistryImageVerifier final : public ImageVerifier {
 public:
  RegistryImageVerifier(std::vector<ImagePolicy> policies, OciClient::Options client,
                        NoMatch noMatch)
      : policies_(std::move(policies)), client_(std::move(client)), noMatch_(noMatch) {}

  // Reads and parses a policy file. Errors: kNotFound/kInvalidArgument naming the file (and,
  // for a bad policy, file:line:column and field path of every problem).
  static Result<std::vector<ImagePolicy>> loadPolicies(const std::string& path);

  ImageVerdict verify(std::string_view image) override;

 private:
  std::vector<ImagePolicy> policies_;
  OciClient client_;
  NoMatch noMatch_;
};

}  // namespace ramp::supply
