#pragma once

// The signature gate's shell: for an image as a release names it, resolve its digest in the
// registry (a tag -> the digest it names now; a digest as written), verify every key and keyless
// authority of every ClusterImagePolicy that matches it (cosign_fetch.h), and decide
// (evaluateImagePolicies, pure). Reads nothing but the image's registry.
//
// Thread safety: as OciClient; the policies are read-only.

#include <string_view>
#include <vector>

#include "supply/image_policy.h"
#include "supply/oci_client.h"

namespace ramp::supply {

// The decision for `image`. Never throws and never returns allowed for an image it could not
// verify under an enforce-mode policy: an unparsable reference, an unreachable registry or a
// missing signature are failures of the authorities, reported in Decision::reason. On success
// Decision::verifiedDigest is the digest to pin the release to.
Decision gateImage(OciClient& client, const std::vector<ImagePolicy>& policies,
                   std::string_view image, NoMatch noMatch = NoMatch::kDeny);

}  // namespace ramp::supply
