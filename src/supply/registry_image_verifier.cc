#include "supply/registry_image_verifier.h"

#include "common/file_io.h"
#include "supply/image_gate.h"

namespace ramp::supply {

std::string pinImage(std::string_view image, std::string_view digest) {
  std::string_view base = image.substr(0, image.find('@'));
  return std::string(base) + "@" + std::string(digest);
}

Result<std::vector<ImagePolicy>> RegistryImageVerifier::loadPolicies(const std::string& path) {
  auto text = readFileIfExists(path);
  if (!text) return std::unexpected(text.error());
  if (!*text) return makeError(ErrorCode::kNotFound, path + ": no such policy file");
  return parseImagePolicies(**text, path);
}

ImageVerdict RegistryImageVerifier::verify(std::string_view image) {
  Decision d = gateImage(client_, policies_, image, noMatch_);
  ImageVerdict v;
  v.allowed = d.allowed;
  v.image = std::string(image);
  v.digest = d.verifiedDigest;
  v.pinnedImage = d.allowed && !d.verifiedDigest.empty() ? pinImage(image, d.verifiedDigest) : "";
  v.policy = d.policy;
  v.authority = d.authority;
  v.warnOnly = d.allowed && d.verifiedDigest.empty() && !d.warnings.empty();
  v.reason = d.reason;
  v.warnings = d.warnings;
  for (const VerifiedAttestation& a : d.attestations) {
    v.attestations.push_back(a.predicateType);
    if (a.provenance && !v.provenance) v.provenance = a.provenance;
    if (a.sbom) v.sboms.push_back(*a.sbom);
  }
  return v;
}

}  // namespace ramp::supply
