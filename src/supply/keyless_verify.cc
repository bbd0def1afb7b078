#include "supply/keyless_verify.h"

#include <regex>

#include "audit/dsse.h"
#include "supply/oci_reference.h"
#include "supply/rekor_entry.h"
#include "supply/verify_errors.h"

namespace ramp::supply {
namespace {

// Go's regexp.MatchString: the expression found anywhere in the value.
bool searches(const std::string& expression, const std::string& value) {
  try {
    return std::regex_search(value, std::regex(expression, std::regex::ECMAScript));
  } catch (const std::regex_error&) {
    return false;  // an expression that does not compile (or runs away) matches nothing
  }
}

bool rekorV2(const TlogEntry& e) {
  return (e.kind == "hashedrekord" || e.kind == "dsse") && e.version == "0.0.2";
}

}  // namespace

Status validateIdentityMatcher(const IdentityMatcher& m) {
  if (m.issuer.empty() == m.issuerRegExp.empty()) {
    return makeError(ErrorCode::kInvalidArgument, "issuer: exactly one of issuer and issuerRegExp");
  }
  if (m.subject.empty() == m.subjectRegExp.empty()) {
    return makeError(ErrorCode::kInvalidArgument,
                     "subject: exactly one of subject and subjectRegExp");
  }
  for (auto [field, expression] :
       {std::pair<const char*, const std::string*>{"issuerRegExp", &m.issuerRegExp},
        {"subjectRegExp", &m.subjectRegExp}}) {
    if (expression->empty()) continue;
    // ECMAScript would read RE2's \pL as a plain "p": refuse it rather than match otherwise.
    for (size_t i = 0; i + 1 < expression->size(); ++i) {
      if ((*expression)[i] != '\\') continue;
      char next = (*expression)[++i];
      if (next == 'p' || next == 'P') {
        return makeError(
            ErrorCode::kInvalidArgument,
            std::string(field) + ": Unicode classes (\\p, \\P) are RE2's, not ECMAScript's");
      }
    }
    try {
      std::regex compiled(*expression, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      return makeError(ErrorCode::kInvalidArgument,
                       std::string(field) + ": not a regular expression (ECMAScript): " + e.what());
    }
  }
  return {};
}

bool identityMatches(const IdentityMatcher& m, const CertificateIdentity& id) {
  bool issuer =
      m.issuerRegExp.empty() ? m.issuer == id.issuer : searches(m.issuerRegExp, id.issuer);
  bool subject =
      m.subjectRegExp.empty() ? m.subject == id.subject : searches(m.subjectRegExp, id.subject);
  return issuer && subject;
}

Result<KeylessVerified> verifyKeyless(const KeylessBundle& bundle, const TrustedRoot& root,
                                      const std::vector<IdentityMatcher>& identities,
                                      const KeylessOptions& options) {
  if (bundle.certificates.empty()) {
    if (bundle.hasPublicKey) {
      return makeError(ErrorCode::kUnsupported,
                       "unsupported: a key-based bundle (verificationMaterial.publicKey) is "
                       "verified by a key authority, not a keyless one");
    }
    return failed("untrusted certificate: the bundle has no certificate");
  }
  if (bundle.content == KeylessBundle::Content::kDsse && bundle.signatures.size() != 1) {
    return failed(
        "bad signature: a keyless DSSE envelope has exactly one signature, this one has " +
        std::to_string(bundle.signatures.size()));
  }
  if (bundle.content == KeylessBundle::Content::kMessage &&
      (bundle.messageDigestAlgorithm != "SHA2_256" || bundle.messageDigest.size() != 32)) {
    return failed("bad signature: the message digest is not SHA2_256 (" +
                  bundle.messageDigestAlgorithm + ")");
  }
  auto leaf = Certificate::fromDer(bundle.certificates.front());
  if (!leaf) return failed("untrusted certificate: the leaf is " + leaf.error().message);

  // 1. The transparency log: a trusted time.
  if (bundle.tlogEntries.empty()) return failed("tlog: the bundle has no transparency log entry");
  if (bundle.tlogEntries.size() > 32) return failed("tlog: more than 32 entries");
  std::vector<std::pair<const TlogEntry*, const TrustedLog*>> known;
  std::string unknownIds;
  for (const TlogEntry& e : bundle.tlogEntries) {
    const TrustedLog* log = TrustedRoot::find(root.tlogs, e.logId);
    if (log == nullptr) {
      unknownIds += (unknownIds.empty() ? "" : ", ") + hexBytes(e.logId);
      continue;
    }
    known.emplace_back(&e, log);
  }
  if (known.empty()) {
    return failed("tlog: no entry from a transparency log of the trusted root (entry log id " +
                  unknownIds + ")");
  }
  const TlogEntry* timed = nullptr;
  const TrustedLog* timedLog = nullptr;
  for (auto [e, log] : known) {
    if (rekorV2(*e)) {
      return makeError(ErrorCode::kUnsupported,
                       "tlog: unsupported: Rekor v2 entries (" + e->kind + " " + e->version + ")");
    }
    if (!e->signedEntryTimestamp && !e->inclusionProof) {
      return failed("tlog: the entry has neither an inclusionPromise (SET) nor an inclusionProof");
    }
    if (e->signedEntryTimestamp) {
      if (auto ok = verifySet(*e, *log); !ok) return std::unexpected(ok.error());
      if (timed == nullptr) {
        timed = e;
        timedLog = log;
      }
    }
    if (e->inclusionProof) {
      if (auto ok = verifyInclusion(*e, *log); !ok) return std::unexpected(ok.error());
    }
  }
  if (timed == nullptr) {
    return failed(
        "tlog: SET: no entry has an inclusionPromise, so no integrated time is signed "
        "(RFC 3161 timestamps are not verified)");
  }
  const int64_t time = timed->integratedTime;

  // 2. The chain at that time; 3. the SCT.
  auto issuer = verifyFulcioChain(*leaf, root, time);
  if (!issuer) return std::unexpected(issuer.error());
  if (!options.ignoreSct) {
    if (auto ok = verifyEmbeddedSct(*leaf, *issuer, root); !ok) return std::unexpected(ok.error());
  }

  // 4. The signature.
  PublicKey key = leaf->publicKey();
  if (bundle.content == KeylessBundle::Content::kDsse) {
    if (!key.verify(audit::pae(bundle.payloadType, bundle.payload), bundle.signatures[0].sig)) {
      return failed(
          "bad signature: the envelope's signature does not verify with the "
          "certificate's key");
    }
  } else if (!key.verifySha256Digest(bundle.messageDigest, bundle.messageSignature)) {
    return failed(
        "bad signature: the message signature does not verify with the certificate's "
        "key");
  }

  // 5. The log recorded this signature.
  for (auto [e, log] : known) {
    if (auto ok = checkBodyBindsBundle(*e, bundle, bundle.certificates.front()); !ok) {
      return std::unexpected(ok.error());
    }
  }

  // 6. The identity.
  auto id = certificateIdentity(*leaf);
  if (!id) return std::unexpected(id.error());
  bool matched = false;
  for (const IdentityMatcher& m : identities) matched = matched || identityMatches(m, *id);
  if (!matched) {
    return failed("identity mismatch: got subject " + id->subject + " issuer " + id->issuer);
  }
  return KeylessVerified{*id, time, timed->logIndex, timedLog->baseUrl};
}

Result<VerifiedEnvelope> verifyKeylessBundleEnvelope(std::string_view bundleJson,
                                                     const TrustedRoot& root,
                                                     const std::vector<IdentityMatcher>& identities,
                                                     const KeylessOptions& options) {
  auto b = parseKeylessBundle(bundleJson);
  if (!b) return std::unexpected(b.error());
  if (!b->mediaType.starts_with("application/vnd.dev.sigstore.bundle")) {
    return failed("wrong type: bundle mediaType \"" + b->mediaType + "\"");
  }
  if (b->content != KeylessBundle::Content::kDsse) {
    return makeError(ErrorCode::kUnsupported,
                     "unsupported: message-signature bundles (cosign sign-blob); image "
                     "signatures are DSSE envelopes");
  }
  auto v = verifyKeyless(*b, root, identities, options);
  if (!v) return std::unexpected(v.error());
  return VerifiedEnvelope{std::move(b->payloadType), std::move(b->payload), "", v->identity.subject,
                          v->identity.issuer};
}

Result<VerifiedSignature> verifyKeylessBundle(std::string_view bundleJson,
                                              std::string_view imageDigest, const TrustedRoot& root,
                                              const std::vector<IdentityMatcher>& identities,
                                              const KeylessOptions& options) {
  if (auto ok = validateDigest(imageDigest); !ok) return std::unexpected(ok.error());
  auto e = verifyKeylessBundleEnvelope(bundleJson, root, identities, options);
  if (!e) return std::unexpected(e.error());
  auto name = checkCosignStatement(e->payloadType, e->payload, imageDigest);
  if (!name) return std::unexpected(name.error());
  return VerifiedSignature{
      SignatureFormat::kBundle, std::string(imageDigest), "", *name, e->subject, e->issuer};
}

Result<VerifiedSignature> verifyLegacyKeyless(
    std::string_view payload, std::string_view signatureBase64, std::string_view certificatePem,
    std::string_view chainPem, std::string_view bundleAnnotation, std::string_view imageDigest,
    const TrustedRoot& root, const std::vector<IdentityMatcher>& identities,
    const KeylessOptions& options) {
  if (auto ok = validateDigest(imageDigest); !ok) return std::unexpected(ok.error());
  auto b = parseLegacyKeyless(payload, signatureBase64, certificatePem, chainPem, bundleAnnotation);
  if (!b) return std::unexpected(b.error());
  auto v = verifyKeyless(*b, root, identities, options);
  if (!v) return std::unexpected(v.error());
  auto reference = checkSimpleSigningPayload(payload, imageDigest);
  if (!reference) return std::unexpected(reference.error());
  return VerifiedSignature{SignatureFormat::kLegacy, std::string(imageDigest), "", *reference,
                           v->identity.subject,      v->identity.issuer};
}

}  // namespace ramp::supply
