#include "supply/attestation.h"

#include <array>
#include <utility>

#include <nlohmann/json.hpp>

#include "supply/oci_reference.h"
#include "supply/verify_errors.h"

namespace ramp::supply {
namespace {

using Json = nlohmann::json;

// cosign's --type short names (cmd/cosign/cli/options/predicate.go), as policy-controller reads
// an attestation's predicateType.
constexpr std::array<std::pair<std::string_view, std::string_view>, 10> kShortNames = {{
    {"custom", "https://cosign.sigstore.dev/attestation/v1"},
    {"slsaprovenance", "https://slsa.dev/provenance/v0.2"},
    {"slsaprovenance02", "https://slsa.dev/provenance/v0.2"},
    {"slsaprovenance1", kSlsaProvenanceV1},
    {"spdx", kSpdxPredicateType},
    {"spdxjson", kSpdxPredicateType},
    {"cyclonedx", kCycloneDxPredicateType},
    {"link", "https://in-toto.io/Link/v1"},
    {"vuln", "https://cosign.sigstore.dev/attestation/vuln/v1"},
    {"openvex", "https://openvex.dev/ns"},
}};

// The string member `key` of object `j` at `path`: "" when absent; an error when present and not
// a string.
Result<std::string> optionalString(const Json& j, const char* key, const std::string& path) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::string();
  if (!it->is_string()) return parseError("provenance", path + ": not a string");
  return it->get<std::string>();
}

// The object member `key` of `j`, or null when absent. An error when present and not an object.
Result<const Json*> optionalObject(const Json& j, const char* key, const std::string& path) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return nullptr;
  if (!it->is_object()) return parseError("provenance", path + ": not an object");
  return &*it;
}

// "<algorithm>:<value>" of a ResourceDescriptor's digest, preferring a commit.
std::string pickDigest(const Json& digest) {
  if (!digest.is_object()) return "";
  for (const char* algorithm : {"gitCommit", "sha1", "sha256", "sha512"}) {
    auto it = digest.find(algorithm);
    if (it != digest.end() && it->is_string())
      return std::string(algorithm) + ":" + it->get<std::string>();
  }
  for (auto it = digest.begin(); it != digest.end(); ++it) {
    if (it->is_string()) return it.key() + ":" + it->get<std::string>();
  }
  return "";
}

Result<ProvenanceEvidence> provenanceFrom(const Json& p) {
  if (!p.is_object()) return parseError("provenance", "predicate: not an object");
  ProvenanceEvidence e;
  auto run = optionalObject(p, "runDetails", "runDetails");
  if (!run) return std::unexpected(run.error());
  if (*run == nullptr) return parseError("provenance", "runDetails: missing");
  auto builder = optionalObject(**run, "builder", "runDetails.builder");
  if (!builder) return std::unexpected(builder.error());
  if (*builder == nullptr) return parseError("provenance", "runDetails.builder: missing");
  auto id = optionalString(**builder, "id", "runDetails.builder.id");
  if (!id) return std::unexpected(id.error());
  if (id->empty()) return parseError("provenance", "runDetails.builder.id: missing");
  e.builderId = std::move(*id);
  auto meta = optionalObject(**run, "metadata", "runDetails.metadata");
  if (!meta) return std::unexpected(meta.error());
  if (*meta != nullptr) {
    auto inv = optionalString(**meta, "invocationId", "runDetails.metadata.invocationId");
    if (!inv) return std::unexpected(inv.error());
    e.invocationId = std::move(*inv);
  }
  auto def = optionalObject(p, "buildDefinition", "buildDefinition");
  if (!def) return std::unexpected(def.error());
  if (*def == nullptr) return e;
  // The source: the first resolved dependency (GitHub's and most builders' checkout)…
  if (auto deps = (*def)->find("resolvedDependencies"); deps != (*def)->end() && !deps->is_null()) {
    if (!deps->is_array()) {
      return parseError("provenance", "buildDefinition.resolvedDependencies: not a list");
    }
    if (!deps->empty()) {
      const Json& first = (*deps)[0];
      if (!first.is_object()) {
        return parseError("provenance", "buildDefinition.resolvedDependencies[0]: not an object");
      }
      auto uri = optionalString(first, "uri", "buildDefinition.resolvedDependencies[0].uri");
      if (!uri) return std::unexpected(uri.error());
      e.source = std::move(*uri);
      if (auto d = first.find("digest"); d != first.end()) e.sourceDigest = pickDigest(*d);
      if (!e.source.empty()) return e;
    }
  }
  // … else the repository and ref of the external parameters: GitHub's workflow build type
  // (externalParameters.workflow.{repository,ref}), GitLab's and generic ones
  // (externalParameters.{source|repository, ref}).
  auto ext = optionalObject(**def, "externalParameters", "buildDefinition.externalParameters");
  if (!ext) return std::unexpected(ext.error());
  if (*ext == nullptr) return e;
  const Json* params = *ext;
  std::string where = "buildDefinition.externalParameters";
  if (auto w = params->find("workflow"); w != params->end() && w->is_object()) {
    params = &*w;
    where += ".workflow";
  }
  auto repo = optionalString(*params, "repository", where + ".repository");
  if (!repo) return std::unexpected(repo.error());
  if (repo->empty()) {
    auto src = params->find("source");
    if (src != params->end() && src->is_string()) *repo = src->get<std::string>();
  }
  auto ref = optionalString(*params, "ref", where + ".ref");
  if (!ref) return std::unexpected(ref.error());
  if (!repo->empty()) e.source = *repo + (ref->empty() ? "" : "@" + *ref);
  return e;
}

Result<SbomEvidence> sbomFrom(std::string_view predicateType, const Json& p) {
  SbomEvidence e;
  const char* list = nullptr;
  if (predicateType.starts_with(kCycloneDxPredicateType)) {
    e.format = "cyclonedx";
    list = "components";
  } else if (predicateType.starts_with(kSpdxPredicateType)) {
    e.format = "spdx";
    list = "packages";
  } else {
    return makeError(ErrorCode::kInvalidArgument,
                     "predicate type \"" + std::string(predicateType) + "\" is not an SBOM");
  }
  // cosign attest --type spdx stores a tag-value document as a JSON string: its format is known,
  // its size is not counted.
  if (p.is_string()) return e;
  if (!p.is_object()) return parseError("sbom", "predicate: not an object");
  auto it = p.find(list);
  if (it == p.end() || it->is_null()) return e;
  if (!it->is_array()) return parseError("sbom", std::string(list) + ": not a list");
  e.components = static_cast<int64_t>(it->size());
  return e;
}

}  // namespace

Result<std::string> predicateTypeUri(std::string_view nameOrUri) {
  for (const auto& [name, uri] : kShortNames) {
    if (name == nameOrUri) return std::string(uri);
  }
  size_t scheme = nameOrUri.find("://");
  if (scheme != std::string_view::npos && scheme > 0 && scheme + 3 < nameOrUri.size()) {
    return std::string(nameOrUri);
  }
  std::string names;
  for (const auto& [name, uri] : kShortNames)
    names += (names.empty() ? "" : ", ") + std::string(name);
  return makeError(ErrorCode::kInvalidArgument, "\"" + std::string(nameOrUri.substr(0, 100)) +
                                                    "\" is neither a predicate type URI nor one "
                                                    "of " +
                                                    names);
}

Result<ProvenanceEvidence> parseSlsaProvenanceV1(std::string_view predicateJson) {
  Json j = Json::parse(predicateJson, nullptr, false);
  if (j.is_discarded()) return parseError("provenance", "not JSON");
  return provenanceFrom(j);
}

Result<SbomEvidence> parseSbomPredicate(std::string_view predicateType,
                                        std::string_view predicateJson) {
  Json j = Json::parse(predicateJson, nullptr, false);
  if (j.is_discarded()) return parseError("sbom", "not JSON");
  return sbomFrom(predicateType, j);
}

Result<VerifiedAttestation> checkAttestationStatement(std::string_view payloadType,
                                                      std::string_view payload,
                                                      std::string_view imageDigest) {
  auto st = parseInTotoPayload(payloadType, payload);
  if (!st) return std::unexpected(st.error());
  if (st->predicateType == kCosignSignPredicateType) {
    return failed("not an attestation: the statement is a cosign signature");
  }
  std::string_view hex = imageDigest.size() > 7 ? imageDigest.substr(7) : imageDigest;
  VerifiedAttestation a;
  a.predicateType = st->predicateType;
  bool named = false;
  for (const InTotoStatement::Subject& s : st->subjects) {
    if (!s.sha256.empty() && s.sha256 == hex) {
      a.subjectName = s.name;
      named = true;
      break;
    }
  }
  if (!named) {
    std::string subject = st->subjects.empty() ? "no subject" : "sha256:" + st->subjects[0].sha256;
    return failed("digest mismatch: the attestation's subject is " + subject + ", the image is " +
                  std::string(imageDigest));
  }
  bool provenance = a.predicateType == kSlsaProvenanceV1;
  bool sbom = a.predicateType.starts_with(kCycloneDxPredicateType) ||
              a.predicateType.starts_with(kSpdxPredicateType);
  if (!provenance && !sbom) return a;
  Json j = Json::parse(payload, nullptr, false);
  auto p = j.find("predicate");
  if (p == j.end()) return failed("bad predicate: " + a.predicateType + ": predicate: missing");
  if (provenance) {
    auto e = provenanceFrom(*p);
    if (!e) return failed("bad predicate: " + e.error().message);
    a.provenance = std::move(*e);
  } else {
    auto e = sbomFrom(a.predicateType, *p);
    if (!e) return failed("bad predicate: " + e.error().message);
    a.sbom = std::move(*e);
  }
  return a;
}

Result<VerifiedAttestation> verifyAttestation(std::string_view bundleJson,
                                              std::string_view imageDigest,
                                              const audit::VerifyingKey& key) {
  if (auto ok = validateDigest(imageDigest); !ok) return std::unexpected(ok.error());
  auto e = verifyBundleEnvelope(bundleJson, key);
  if (!e) return std::unexpected(e.error());
  return checkAttestationStatement(e->payloadType, e->payload, imageDigest);
}

Result<VerifiedAttestation> verifyAttestation(std::string_view bundleJson,
                                              std::string_view imageDigest, const TrustedRoot& root,
                                              const std::vector<IdentityMatcher>& identities,
                                              const KeylessOptions& options) {
  if (auto ok = validateDigest(imageDigest); !ok) return std::unexpected(ok.error());
  auto e = verifyKeylessBundleEnvelope(bundleJson, root, identities, options);
  if (!e) return std::unexpected(e.error());
  return checkAttestationStatement(e->payloadType, e->payload, imageDigest);
}

}  // namespace ramp::supply
