#include "supply/cosign_fetch.h"

#include <algorithm>
#include <functional>

#include "supply/oci_manifest.h"
#include "supply/sigstore_bundle.h"

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
    auto annotation = [&](std::string_view key) {
      auto a = layer.annotations.find(std::string(key));
      return a == layer.annotations.end() ? std::string() : a->second;
    };
    out.push_back(LegacySignature{std::move(*payload), annotation(kCosignSignatureAnnotation),
                                  layer.digest, annotation(kCosignCertificateAnnotation),
                                  annotation(kCosignChainAnnotation),
                                  annotation(kCosignBundleAnnotation)});
  }
  return out;
}

Result<std::vector<BundleReferrer>> fetchBundleReferrers(
    OciClient& client, const ImageReference& repo, std::string_view digest,
    const std::vector<std::string_view>& skipHints) {
  auto refs = client.referrers(repo, digest);
  if (!refs) return std::unexpected(refs.error());
  std::vector<BundleReferrer> out;
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
    std::string hint;
    if (auto a = m->manifest.annotations.find(std::string(kBundlePredicateTypeAnnotation));
        a != m->manifest.annotations.end()) {
      hint = a->second;
    }
    if (std::find(skipHints.begin(), skipHints.end(), hint) != skipHints.end()) continue;
    for (const Descriptor& layer : m->manifest.layers) {
      if (layer.mediaType != kSigstoreBundleMediaType) continue;
      auto blob = client.getBlob(repo, layer.digest);
      if (!blob) return std::unexpected(blob.error());
      out.push_back(BundleReferrer{d.digest, hint, std::move(*blob)});
    }
  }
  return out;
}

Result<std::vector<std::string>> fetchBundles(OciClient& client, const ImageReference& repo,
                                              std::string_view digest) {
  auto referrers = fetchBundleReferrers(client, repo, digest);
  if (!referrers) return std::unexpected(referrers.error());
  std::vector<std::string> out;
  for (BundleReferrer& r : *referrers) out.push_back(std::move(r.bundleJson));
  return out;
}

Result<AttestationsFound> verifyImageAttestations(OciClient& client, const ImageReference& repo,
                                                  std::string_view digest,
                                                  const AttestationVerifier& verify) {
  auto referrers = fetchBundleReferrers(client, repo, digest, {kCosignSignPredicateType});
  if (!referrers) return std::unexpected(referrers.error());
  AttestationsFound found;
  for (size_t i = 0; i < referrers->size(); ++i) {
    const BundleReferrer& r = (*referrers)[i];
    std::string location = repo.repositoryName() + "@" + r.manifestDigest;
    auto a = verify(r.bundleJson);
    if (a) {
      a->location = location;
      if (a->provenance) a->provenance->location = location;
      if (a->sbom) a->sbom->location = location;
      found.verified.push_back(std::move(*a));
    } else if (!a.error().message.starts_with("not an attestation")) {
      found.failures.push_back("bundle " + std::to_string(i + 1) + " (" + location +
                               "): " + a.error().message);
    }
  }
  return found;
}

namespace {

// Finds `digest`'s signatures in `format` and returns the first that `legacy` or `bundle`
// verifies, else every candidate's failure.
Result<VerifiedSignature> firstVerified(
    OciClient& client, const ImageReference& repo, std::string_view digest, SignatureFormat format,
    const std::function<Result<VerifiedSignature>(const LegacySignature&)>& legacy,
    const std::function<Result<VerifiedSignature>(const std::string&)>& bundle) {
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
      auto v = legacy(s);
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
      auto v = bundle((*bundles)[i]);
      if (v) return v;
      reasons.push_back("bundle " + std::to_string(i + 1) + ": " + v.error().message);
    }
  }
  std::string msg = "no " + std::string(signatureFormatName(format)) + " signature of " +
                    std::string(digest) + " verifies";
  for (const std::string& r : reasons) msg += "; " + r;
  return makeError(ErrorCode::kFailedPrecondition, msg);
}

}  // namespace

Result<VerifiedSignature> verifyImageSignature(OciClient& client, const ImageReference& repo,
                                               std::string_view digest, SignatureFormat format,
                                               const audit::VerifyingKey& key) {
  return firstVerified(
      client, repo, digest, format,
      [&](const LegacySignature& s) {
        return verifyLegacySignature(s.payload, s.signatureBase64, digest, key);
      },
      [&](const std::string& b) { return verifyBundle(b, digest, key); });
}

Result<VerifiedSignature> verifyImageSignature(OciClient& client, const ImageReference& repo,
                                               std::string_view digest, SignatureFormat format,
                                               const KeylessAuthority& authority) {
  if (authority.root == nullptr) {
    return makeError(ErrorCode::kFailedPrecondition,
                     "untrusted certificate: the keyless authority has no trusted root");
  }
  return firstVerified(
      client, repo, digest, format,
      [&](const LegacySignature& s) -> Result<VerifiedSignature> {
        if (s.certificatePem.empty()) {
          return makeError(ErrorCode::kFailedPrecondition,
                           "untrusted certificate: the layer has no " +
                               std::string(kCosignCertificateAnnotation) +
                               " annotation (a key-based signature)");
        }
        return verifyLegacyKeyless(s.payload, s.signatureBase64, s.certificatePem, s.chainPem,
                                   s.bundleJson, digest, *authority.root, authority.identities,
                                   authority.options);
      },
      [&](const std::string& b) {
        return verifyKeylessBundle(b, digest, *authority.root, authority.identities,
                                   authority.options);
      });
}

}  // namespace ramp::supply
