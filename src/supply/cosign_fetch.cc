#include "supply/cosign_fetch.h"

#include "supply/oci_manifest.h"

namespace ramp::supply {

Result<std::vector<LegacySignature>> fetchLegacySignatures(OciClient& client,
                                                           const ImageReference& repo,
                                                           std::string_view digest) {
  if (auto ok = validateDigest(digest); !ok) return std::unexpected(ok.error());
  std::string tag = digestTag(digest) + ".sig";
  auto m = client.getManifest(repo, tag);
  if (!m) {
    if (m.error().code == ErrorCode::kNotFound) {
      return makeError(ErrorCode::kNotFound, "no legacy signature: tag " + tag + " of " +
                                                 repo.repositoryName() + " does not exist");
    }
    return std::unexpected(m.error());
  }
  std::vector<LegacySignature> out;
  for (const Descriptor& layer : m->manifest.layers) {
    if (layer.mediaType != kSimpleSigningMediaType) continue;
    auto payload = client.getBlob(repo, layer.digest);
    if (!payload) return std::unexpected(payload.error());
    std::string sig;
    if (auto a = layer.annotations.find(std::string(kCosignSignatureAnnotation));
        a != layer.annotations.end()) {
      sig = a->second;
    }
    out.push_back(LegacySignature{std::move(*payload), std::move(sig), layer.digest});
  }
  return out;
}

Result<std::vector<std::string>> fetchBundles(OciClient& client, const ImageReference& repo,
                                              std::string_view digest) {
  auto refs = client.referrers(repo, digest);
  if (!refs) return std::unexpected(refs.error());
  std::vector<std::string> out;
  for (const Descriptor& d : *refs) {
    // A registry should list a referrer under its manifest's artifactType; some list the config's
    // media type instead (go-containerregistry's registry: the empty type). Those are read to
    // find out; referrers of another declared type are skipped unread.
    bool maybe = d.artifactType == kSigstoreBundleMediaType || d.artifactType.empty() ||
                 d.artifactType == kOciEmptyType;
    if (!maybe) continue;
    auto m = client.getManifest(repo, d.digest);
    if (!m) return std::unexpected(m.error());
    if (m->manifest.artifactType != kSigstoreBundleMediaType) continue;
    for (const Descriptor& layer : m->manifest.layers) {
      if (layer.mediaType != kSigstoreBundleMediaType) continue;
      auto blob = client.getBlob(repo, layer.digest);
      if (!blob) return std::unexpected(blob.error());
      out.push_back(std::move(*blob));
    }
  }
  return out;
}

Result<VerifiedSignature> verifyImageSignature(OciClient& client, const ImageReference& repo,
                                               std::string_view digest, SignatureFormat format,
                                               const audit::VerifyingKey& key) {
  std::vector<std::string> reasons;
  if (format == SignatureFormat::kLegacy) {
    auto sigs = fetchLegacySignatures(client, repo, digest);
    if (!sigs) return std::unexpected(sigs.error());
    if (sigs->empty()) {
      return makeError(ErrorCode::kNotFound, "no legacy signature: the signature manifest of " +
                                                 std::string(digest) +
                                                 " has no simple-signing layer");
    }
    for (const LegacySignature& s : *sigs) {
      auto v = verifyLegacySignature(s.payload, s.signatureBase64, digest, key);
      if (v) return v;
      reasons.push_back("layer " + s.layerDigest.substr(0, 19) + ": " + v.error().message);
    }
  } else {
    auto bundles = fetchBundles(client, repo, digest);
    if (!bundles) return std::unexpected(bundles.error());
    if (bundles->empty()) {
      return makeError(ErrorCode::kNotFound, "no bundle: " + repo.repositoryName() + "@" +
                                                 std::string(digest) +
                                                 " has no Sigstore bundle referrer");
    }
    for (size_t i = 0; i < bundles->size(); ++i) {
      auto v = verifyBundle((*bundles)[i], digest, key);
      if (v) return v;
      reasons.push_back("bundle " + std::to_string(i + 1) + ": " + v.error().message);
    }
  }
  std::string msg = "no " + std::string(signatureFormatName(format)) + " signature of " +
                    std::string(digest) + " verifies";
  for (const std::string& r : reasons) msg += "; " + r;
  return makeError(ErrorCode::kFailedPrecondition, msg);
}

}  // namespace ramp::supply
