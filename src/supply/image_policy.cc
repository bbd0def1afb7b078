#include "supply/image_policy.h"

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <set>

#include "ramp/spec/diagnostic.h"
#include "spec/codec.h"
#include "spec/node.h"

namespace ramp::supply {
namespace {

using spec::Diagnostic;
using spec::internal::MapEntry;
using spec::internal::Node;

// Collects diagnostics for one file while a document is walked.
struct Walker {
  std::string file;
  std::vector<Diagnostic> diags;

  void error(const Node& at, const std::string& path, const std::string& message) {
    diags.push_back(Diagnostic{file, at.line, at.column, path, message, spec::Severity::kError});
  }
  void error(const MapEntry& at, const std::string& path, const std::string& message) {
    diags.push_back(Diagnostic{file, at.line, at.column, path, message, spec::Severity::kError});
  }

  // The entry `key` of map `n`, or null.
  static const MapEntry* find(const Node& n, std::string_view key) {
    for (const MapEntry& e : n.entries) {
      if (e.key == key) return &e;
    }
    return nullptr;
  }

  // Reports every key of `n` not in `known` (and the `unsupported` ones with their reason).
  void checkKeys(const Node& n, const std::string& path, const std::set<std::string>& known,
                 const std::map<std::string, std::string>& unsupported = {}) {
    for (const MapEntry& e : n.entries) {
      std::string p = path.empty() ? e.key : path + "." + e.key;
      if (auto u = unsupported.find(e.key); u != unsupported.end()) {
        error(e, p, "not supported: " + u->second);
      } else if (!known.contains(e.key)) {
        std::string list;
        for (const std::string& k : known) list += (list.empty() ? "" : ", ") + k;
        error(e, p, "unknown field (known: " + list + ")");
      }
    }
  }

  // A string field: returns it, or "" after reporting a mistyped one.
  std::optional<std::string> string(const Node& parent, std::string_view key,
                                    const std::string& path, bool required) {
    const MapEntry* e = find(parent, key);
    std::string p = path.empty() ? std::string(key) : path + "." + std::string(key);
    if (e == nullptr) {
      if (required) error(parent, p, "required");
      return std::nullopt;
    }
    if (e->value.type != Node::Type::kString) {
      error(e->value, p, std::string("must be a string, not ") + typeName(e->value.type));
      return std::nullopt;
    }
    return e->value.text;
  }
};

// A glob as a list of tokens: literal text, kSegment ("*": any run without '/'), kAny ("**").
enum class Tok { kLiteral, kSegment, kAny };

bool matchTokens(std::string_view glob, std::string_view s) {
  // Dynamic programming over (glob position, string position); both are bounded (a reference
  // is at most 4096 characters, a glob as long as its YAML scalar).
  struct Part {
    Tok tok;
    char c;
  };
  std::vector<Part> parts;
  for (size_t i = 0; i < glob.size(); ++i) {
    if (glob[i] == '*' && i + 1 < glob.size() && glob[i + 1] == '*') {
      parts.push_back({Tok::kAny, 0});
      ++i;
    } else if (glob[i] == '*') {
      parts.push_back({Tok::kSegment, 0});
    } else {
      parts.push_back({Tok::kLiteral, glob[i]});
    }
  }
  // can[j]: the first i parts match s[0, j).
  std::vector<char> can(s.size() + 1, 0), next(s.size() + 1, 0);
  can[0] = 1;
  for (const Part& p : parts) {
    std::fill(next.begin(), next.end(), 0);
    for (size_t j = 0; j <= s.size(); ++j) {
      if (p.tok == Tok::kLiteral) {
        if (j > 0 && can[j - 1] && s[j - 1] == p.c) next[j] = 1;
      } else {
        // A star extends whatever matched before it, over characters it may take.
        if (can[j]) next[j] = 1;
        if (j > 0 && next[j - 1] && (p.tok == Tok::kAny || s[j - 1] != '/')) next[j] = 1;
      }
    }
    std::swap(can, next);
  }
  return can[s.size()] != 0;
}

// Why `r` lacks an attestation `a` requires ("" when it has them all): "no attestation of type
// slsaprovenance1 (https://slsa.dev/provenance/v1) verified by authority A (bundle 1 (…): …)".
std::string missingAttestations(const PolicyAuthority& a, const AuthorityResult& r) {
  std::string out;
  for (const RequiredAttestation& want : a.attestations) {
    bool have = std::any_of(
        r.attestations.begin(), r.attestations.end(),
        [&](const VerifiedAttestation& v) { return v.predicateType == want.predicateType; });
    if (have) continue;
    std::string type = want.written == want.predicateType
                           ? want.written
                           : want.written + " (" + want.predicateType + ")";
    out += (out.empty() ? "" : "; ") +
           fmt::format("no attestation of type {} verified by authority {}", type, a.name);
  }
  if (out.empty() || r.attestationFailures.empty()) return out;
  std::string why;
  for (const std::string& f : r.attestationFailures) why += (why.empty() ? "" : "; ") + f;
  return out + " (" + why + ")";
}

std::string joinDiagnostics(const std::vector<Diagnostic>& diags) {
  std::string out;
  for (const Diagnostic& d : diags) out += (out.empty() ? "" : "\n") + spec::formatDiagnostic(d);
  return out;
}

// keyless: {identities: [{issuer|issuerRegExp, subject|subjectRegExp}], trustRootRef,
// insecureIgnoreSCT}; url and caCert are refused (nothing is fetched; CAs come in a trusted root).
void decodeKeyless(Walker& w, const MapEntry& entry, const std::string& path, PolicyAuthority& a) {
  const Node& n = entry.value;
  a.kind = PolicyAuthority::Kind::kKeyless;
  a.where =
      w.file + ":" + std::to_string(entry.line) + ":" + std::to_string(entry.column) + ": " + path;
  if (n.type != Node::Type::kMap) {
    w.error(n, path, "must be a map with identities");
    return;
  }
  w.checkKeys(n, path, {"identities", "trustRootRef", "insecureIgnoreSCT"},
              {{"url",
                "ramp never fetches a Fulcio root or TUF metadata: give the trusted_root.json "
                "with ramp serve --trusted-root FILE (or NAME=FILE, named by trustRootRef)"},
               {"caCert",
                "give the certificate authority in a trusted_root.json (ramp serve "
                "--trusted-root), with its validity window"}});
  a.trustRootRef = w.string(n, "trustRootRef", path, false).value_or("");
  if (const MapEntry* sct = Walker::find(n, "insecureIgnoreSCT")) {
    if (sct->value.type != Node::Type::kBool) {
      w.error(sct->value, path + ".insecureIgnoreSCT", "must be true or false");
    } else {
      a.ignoreSct = sct->value.boolean;
    }
  }
  const MapEntry* ids = Walker::find(n, "identities");
  if (ids == nullptr || ids->value.type != Node::Type::kSeq || ids->value.items.empty()) {
    w.error(ids ? ids->value : n, path + ".identities",
            "required: a non-empty list of {issuer or issuerRegExp, subject or subjectRegExp}");
    return;
  }
  for (size_t i = 0; i < ids->value.items.size(); ++i) {
    const Node& id = ids->value.items[i];
    std::string ip = path + ".identities[" + std::to_string(i) + "]";
    if (id.type != Node::Type::kMap) {
      w.error(id, ip, "must be a map");
      continue;
    }
    w.checkKeys(id, ip, {"issuer", "subject", "issuerRegExp", "subjectRegExp"});
    IdentityMatcher m;
    m.issuer = w.string(id, "issuer", ip, false).value_or("");
    m.subject = w.string(id, "subject", ip, false).value_or("");
    m.issuerRegExp = w.string(id, "issuerRegExp", ip, false).value_or("");
    m.subjectRegExp = w.string(id, "subjectRegExp", ip, false).value_or("");
    if (auto ok = validateIdentityMatcher(m); !ok) {
      // The message starts with the field it is about ("subjectRegExp: …").
      const std::string& msg = ok.error().message;
      size_t colon = msg.find(": ");
      std::string field = msg.substr(0, colon);
      const MapEntry* at = Walker::find(id, field);
      if (at == nullptr) at = Walker::find(id, field + "RegExp");
      std::string fieldPath = ip;
      fieldPath += ".";
      fieldPath += field;
      w.error(at != nullptr ? at->value : id, fieldPath, msg.substr(colon + 2));
      continue;
    }
    a.identities.push_back(std::move(m));
  }
}

// attestations: [{name, predicateType, policy?}]; policy (cue/rego) is refused.
void decodeAttestations(Walker& w, const MapEntry& entry, const std::string& path,
                        PolicyAuthority& a) {
  const Node& n = entry.value;
  if (n.type != Node::Type::kSeq) {
    w.error(n, path, "must be a list of {name, predicateType}");
    return;
  }
  std::set<std::string> names;
  for (size_t i = 0; i < n.items.size(); ++i) {
    const Node& item = n.items[i];
    std::string ip = path + "[" + std::to_string(i) + "]";
    if (item.type != Node::Type::kMap) {
      w.error(item, ip, "must be a map with name and predicateType");
      continue;
    }
    w.checkKeys(item, ip, {"name", "predicateType"},
                {{"policy",
                  "attestation policies (cue/rego) are not evaluated: ramp requires a verified "
                  "attestation of the predicateType and shows its provenance or SBOM as evidence; "
                  "remove policy"}});
    RequiredAttestation r;
    r.name = w.string(item, "name", ip, true).value_or("");
    if (!r.name.empty() && !names.insert(r.name).second) {
      w.error(*Walker::find(item, "name"), ip + ".name",
              "duplicate attestation name \"" + r.name + "\"");
    }
    auto type = w.string(item, "predicateType", ip, true);
    if (!type) continue;
    auto uri = predicateTypeUri(*type);
    if (!uri) {
      w.error(Walker::find(item, "predicateType")->value, ip + ".predicateType",
              uri.error().message);
      continue;
    }
    r.predicateType = std::move(*uri);
    r.written = std::move(*type);
    a.attestations.push_back(std::move(r));
  }
}

void decodeAuthority(Walker& w, const Node& n, const std::string& path, size_t index,
                     ImagePolicy& policy) {
  if (n.type != Node::Type::kMap) {
    w.error(n, path, "must be a map");
    return;
  }
  w.checkKeys(n, path, {"name", "key", "keyless", "static", "signatureFormat", "attestations"},
              {{"source", "signatures are read from the image's own repository"},
               {"ctlog",
                "ramp never contacts Rekor: the transparency log's key comes from the keyless "
                "authority's trusted root (keyless.trustRootRef or ramp serve --trusted-root)"},
               {"rfc3161timestamp", "timestamp authorities are not consulted"}});
  PolicyAuthority a;
  a.name = w.string(n, "name", path, false).value_or("authority-" + std::to_string(index));
  const MapEntry* key = Walker::find(n, "key");
  const MapEntry* keyless = Walker::find(n, "keyless");
  const MapEntry* stat = Walker::find(n, "static");
  if ((key != nullptr) + (keyless != nullptr) + (stat != nullptr) != 1) {
    w.error(n, path, "exactly one of key, keyless and static is required");
  }
  if (keyless != nullptr) decodeKeyless(w, *keyless, path + ".keyless", a);
  if (key != nullptr) {
    std::string kp = path + ".key";
    if (key->value.type != Node::Type::kMap) {
      w.error(key->value, kp, "must be a map");
    } else {
      w.checkKeys(key->value, kp, {"data", "hashAlgorithm"},
                  {{"secretRef",
                    "ramp runs outside Kubernetes and reads no Secrets: put the "
                    "public key's PEM in key.data"},
                   {"kms",
                    "KMS keys need their cloud's API; put the public key's PEM in "
                    "key.data"}});
      if (auto h = w.string(key->value, "hashAlgorithm", kp, false); h && *h != "sha256") {
        w.error(*Walker::find(key->value, "hashAlgorithm"), kp + ".hashAlgorithm",
                "only sha256 is supported (cosign's ECDSA P-256 signatures)");
      }
      bool refused = Walker::find(key->value, "secretRef") || Walker::find(key->value, "kms");
      if (auto pem = w.string(key->value, "data", kp, !refused)) {
        auto k = audit::VerifyingKey::fromPem(*pem);
        if (!k) {
          w.error(Walker::find(key->value, "data")->value, kp + ".data",
                  "not an ECDSA P-256 public key in PEM (cosign.pub): " + k.error().message);
        } else {
          a.key = std::make_shared<const audit::VerifyingKey>(std::move(*k));
        }
      }
    }
  }
  if (const MapEntry* atts = Walker::find(n, "attestations")) {
    if (stat != nullptr) {
      w.error(*atts, path + ".attestations",
              "a static authority verifies nothing: attestations need a key or keyless authority");
    } else {
      decodeAttestations(w, *atts, path + ".attestations", a);
    }
  }
  if (stat != nullptr) {
    std::string sp = path + ".static";
    if (stat->value.type != Node::Type::kMap) {
      w.error(stat->value, sp, "must be a map");
    } else {
      w.checkKeys(stat->value, sp, {"action", "message"});
      if (auto action = w.string(stat->value, "action", sp, true)) {
        if (*action == "pass") {
          a.kind = PolicyAuthority::Kind::kStaticPass;
        } else if (*action == "fail") {
          a.kind = PolicyAuthority::Kind::kStaticFail;
        } else {
          w.error(Walker::find(stat->value, "action")->value, sp + ".action",
                  "must be pass or fail, not \"" + *action + "\"");
        }
      }
    }
  }
  if (auto f = w.string(n, "signatureFormat", path, false)) {
    if (*f == "legacy") {
      a.format = SignatureFormat::kLegacy;
    } else if (*f == "bundle") {
      a.format = SignatureFormat::kBundle;
    } else {
      w.error(Walker::find(n, "signatureFormat")->value, path + ".signatureFormat",
              "must be legacy or bundle, not \"" + *f + "\"");
    }
  }
  policy.authorities.push_back(std::move(a));
}

void decodePolicy(Walker& w, const Node& doc, std::vector<ImagePolicy>& out) {
  if (doc.type == Node::Type::kNull) return;  // an empty document (a trailing ---)
  if (doc.type != Node::Type::kMap) {
    w.error(doc, "", "a ClusterImagePolicy must be a map");
    return;
  }
  size_t before = w.diags.size();
  ImagePolicy p;
  p.source = w.file + ":" + std::to_string(doc.line);
  w.checkKeys(doc, "", {"apiVersion", "kind", "metadata", "spec"});
  if (auto v = w.string(doc, "apiVersion", "", true);
      v && *v != kImagePolicyApiVersion && *v != "policy.sigstore.dev/v1alpha1") {
    w.error(Walker::find(doc, "apiVersion")->value, "apiVersion",
            "must be " + std::string(kImagePolicyApiVersion) + ", not \"" + *v + "\"");
  }
  if (auto k = w.string(doc, "kind", "", true); k && *k != kImagePolicyKind) {
    w.error(Walker::find(doc, "kind")->value, "kind",
            "must be " + std::string(kImagePolicyKind) + ", not \"" + *k + "\"");
  }
  const MapEntry* meta = Walker::find(doc, "metadata");
  if (meta == nullptr || meta->value.type != Node::Type::kMap) {
    w.error(meta ? meta->value : doc, "metadata", "required: a map with name");
  } else if (auto name = w.string(meta->value, "name", "metadata", true)) {
    p.name = *name;
    if (p.name.empty()) w.error(Walker::find(meta->value, "name")->value, "metadata.name", "empty");
  }
  const MapEntry* specEntry = Walker::find(doc, "spec");
  if (specEntry == nullptr || specEntry->value.type != Node::Type::kMap) {
    w.error(specEntry ? specEntry->value : doc, "spec", "required: a map");
    return;
  }
  const Node& spec = specEntry->value;
  w.checkKeys(spec, "spec", {"images", "authorities", "mode"},
              {{"match", "ramp gates images, not Kubernetes resources: spec.images selects them"},
               {"policy", "policies over the verified signatures (cue/rego) are not evaluated"}});
  const MapEntry* images = Walker::find(spec, "images");
  if (images == nullptr || images->value.type != Node::Type::kSeq || images->value.items.empty()) {
    w.error(images ? images->value : spec, "spec.images", "required: a non-empty list of {glob}");
  } else {
    for (size_t i = 0; i < images->value.items.size(); ++i) {
      const Node& img = images->value.items[i];
      std::string ip = "spec.images[" + std::to_string(i) + "]";
      if (img.type != Node::Type::kMap) {
        w.error(img, ip, "must be a map with glob");
        continue;
      }
      w.checkKeys(img, ip, {"glob"},
                  {{"regex", "removed from policy-controller; use glob (* and **)"}});
      if (auto g = w.string(img, "glob", ip, true)) {
        if (auto ok = validateGlob(*g); !ok) {
          w.error(Walker::find(img, "glob")->value, ip + ".glob", ok.error().message);
        } else {
          p.globs.push_back(*g);
        }
      }
    }
  }
  const MapEntry* auths = Walker::find(spec, "authorities");
  if (auths == nullptr || auths->value.type != Node::Type::kSeq || auths->value.items.empty()) {
    w.error(auths ? auths->value : spec, "spec.authorities",
            "required: a non-empty list (an image must be verified by one of them)");
  } else {
    std::set<std::string> names;
    for (size_t i = 0; i < auths->value.items.size(); ++i) {
      std::string ap = "spec.authorities[" + std::to_string(i) + "]";
      decodeAuthority(w, auths->value.items[i], ap, i, p);
      if (p.authorities.size() == i + 1 && !names.insert(p.authorities.back().name).second) {
        w.error(auths->value.items[i], ap + ".name",
                "duplicate authority name \"" + p.authorities.back().name + "\"");
      }
    }
  }
  if (auto m = w.string(spec, "mode", "spec", false)) {
    if (*m == "enforce") {
      p.mode = PolicyMode::kEnforce;
    } else if (*m == "warn") {
      p.mode = PolicyMode::kWarn;
    } else {
      w.error(Walker::find(spec, "mode")->value, "spec.mode",
              "must be enforce or warn, not \"" + *m + "\"");
    }
  }
  if (w.diags.size() == before) out.push_back(std::move(p));
}

}  // namespace

std::string describeAttestations(const std::vector<VerifiedAttestation>& attestations) {
  // Provenance first, then SBOMs, then the others, whatever order the registry listed them in.
  std::string provenance, sboms, others;
  for (const VerifiedAttestation& a : attestations) {
    if (a.provenance) {
      const ProvenanceEvidence& p = *a.provenance;
      provenance += "; provenance: built by " + p.builderId;
      if (!p.source.empty()) provenance += " from " + p.source;
      if (!p.invocationId.empty()) provenance += ", run " + p.invocationId;
    } else if (a.sbom) {
      sboms += "; SBOM " + a.sbom->format;
      if (a.sbom->components >= 0) {
        sboms += " (" + std::to_string(a.sbom->components) + " components)";
      }
    } else {
      others += "; attestation " + a.predicateType;
    }
  }
  return provenance + sboms + others;
}

std::string_view policyModeName(PolicyMode mode) {
  return mode == PolicyMode::kEnforce ? "enforce" : "warn";
}

Status bindTrustedRoots(std::vector<ImagePolicy>& policies, const TrustedRoots& roots) {
  std::string problems;
  for (ImagePolicy& p : policies) {
    for (PolicyAuthority& a : p.authorities) {
      if (a.kind != PolicyAuthority::Kind::kKeyless) continue;
      auto it = roots.find(a.trustRootRef);
      if (it != roots.end() && it->second) {
        a.trustedRoot = it->second;
        continue;
      }
      std::string why =
          a.trustRootRef.empty()
              ? ": needs a trusted root: ramp serve --trusted-root FILE (a trusted_root.json)"
              : ".trustRootRef: no trusted root named \"" + a.trustRootRef +
                    "\": ramp serve --trusted-root " + a.trustRootRef + "=FILE";
      problems += (problems.empty() ? "" : "\n") + a.where + why;
    }
  }
  if (!problems.empty()) return makeError(ErrorCode::kInvalidArgument, problems);
  return {};
}

Status validateGlob(std::string_view glob) {
  bool ok = !glob.empty() && glob.size() <= 1024;
  for (char c : glob) {
    bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                   c == '-' || c == '_' || c == ':' || c == '/' || c == '*' || c == '.';
    ok = ok && allowed;
  }
  if (!ok) {
    return makeError(ErrorCode::kInvalidArgument,
                     "invalid glob \"" + std::string(glob.substr(0, 100)) +
                         "\": only letters, digits, '-', '_', ':', '/', '.', '*' and '**'");
  }
  return {};
}

Result<bool> globMatches(std::string_view glob, std::string_view image) {
  if (auto ok = validateGlob(glob); !ok) return std::unexpected(ok.error());
  // policy-controller reads the bare wildcards as Docker Hub's.
  std::string g(glob);
  if (g == "*/*") g = std::string(kDockerHubRegistry) + "/*/*";
  if (g == "*") g = std::string(kDockerHubRegistry) + "/library/*";
  auto ref = parseImageReference(image);
  if (!ref) return std::unexpected(ref.error());
  std::string name = ref->name();
  if (matchTokens(g, name)) return true;
  // As written, when that differs (policy-controller's deprecated fallback, kept for
  // compatibility of existing policies).
  return name != image && matchTokens(g, image);
}

std::vector<const ImagePolicy*> matchingPolicies(const std::vector<ImagePolicy>& policies,
                                                 std::string_view image) {
  std::vector<const ImagePolicy*> out;
  for (const ImagePolicy& p : policies) {
    for (const std::string& g : p.globs) {
      if (auto m = globMatches(g, image); m && *m) {
        out.push_back(&p);
        break;
      }
    }
  }
  return out;
}

Result<std::vector<ImagePolicy>> parseImagePolicies(std::string_view text, std::string_view file) {
  Walker w{std::string(file), {}};
  auto loaded = spec::internal::loadYaml(text, file, spec::DecodeLimits{});
  std::vector<ImagePolicy> out;
  if (loaded.failed) {
    return makeError(ErrorCode::kInvalidArgument, joinDiagnostics(loaded.diagnostics));
  }
  for (const Node& doc : loaded.documents) decodePolicy(w, doc, out);
  if (!w.diags.empty()) return makeError(ErrorCode::kInvalidArgument, joinDiagnostics(w.diags));
  if (out.empty()) {
    return makeError(ErrorCode::kInvalidArgument,
                     std::string(file) + ": no ClusterImagePolicy in the file");
  }
  std::set<std::string> names;
  for (const ImagePolicy& p : out) {
    if (!names.insert(p.name).second) {
      return makeError(ErrorCode::kInvalidArgument,
                       p.source + ": metadata.name: duplicate policy name \"" + p.name + "\"");
    }
  }
  return out;
}

Decision evaluateImagePolicies(const std::vector<ImagePolicy>& policies, std::string_view image,
                               std::string_view digest, const std::vector<AuthorityResult>& results,
                               NoMatch noMatch) {
  Decision d;
  // No policy can match what is not an image reference; "no match" must not let it through.
  if (auto ref = parseImageReference(image); !ref) {
    d.reason = ref.error().message;
    return d;
  }
  std::vector<const ImagePolicy*> matching = matchingPolicies(policies, image);
  if (matching.empty()) {
    d.allowed = noMatch == NoMatch::kAllow;
    d.reason = fmt::format(
        "no ClusterImagePolicy matches image {} ({})", image,
        d.allowed ? "allowed: no-match policy is allow" : "denied: no-match policy is deny");
    return d;
  }
  const ImagePolicy* firstWarn = nullptr;
  std::string firstVerifiedBy;
  std::string firstIdentity;
  std::vector<VerifiedAttestation> firstAttestations;
  const ImagePolicy* firstPassed = nullptr;
  for (const ImagePolicy* p : matching) {
    std::vector<std::string> failures;
    std::string verifiedBy;
    std::string identity;  // a keyless signature's certificate identity
    std::vector<VerifiedAttestation> attestations;
    for (const PolicyAuthority& a : p->authorities) {
      if (a.kind == PolicyAuthority::Kind::kStaticPass) {
        verifiedBy = a.name;
        break;
      }
      if (a.kind == PolicyAuthority::Kind::kStaticFail) {
        failures.push_back(a.name + ": static action fail");
        continue;
      }
      const AuthorityResult* r = nullptr;
      for (const AuthorityResult& x : results) {
        if (x.policy == p->name && x.authority == a.name) r = &x;
      }
      if (r == nullptr) {
        failures.push_back(a.name + ": not verified (no result)");
      } else if (!r->result) {
        failures.push_back(a.name + ": " + r->result.error().message);
      } else if (digest.empty() || r->result->digest != digest) {
        failures.push_back(a.name + ": verified digest " + r->result->digest +
                           " is not the image's " + std::string(digest));
      } else if (auto missing = missingAttestations(a, *r); !missing.empty()) {
        failures.push_back(a.name + ": " + missing);
      } else {
        verifiedBy = a.name;
        if (!r->result->subject.empty()) {
          identity = " (keyless: " + r->result->subject + " from " + r->result->issuer + ")";
        }
        attestations = r->attestations;
        break;
      }
    }
    if (!verifiedBy.empty()) {
      if (firstPassed == nullptr) {
        firstPassed = p;
        firstVerifiedBy = verifiedBy;
        firstIdentity = identity;
        firstAttestations = std::move(attestations);
      }
      continue;
    }
    std::string why =
        fmt::format("image {} is not verified by ClusterImagePolicy {}", image, p->name);
    for (const std::string& f : failures) why += "; " + f;
    if (p->mode == PolicyMode::kEnforce) {
      d.allowed = false;
      d.mode = PolicyMode::kEnforce;
      d.policy = p->name;
      d.reason = why;
      return d;
    }
    d.warnings.push_back(why);
    if (firstWarn == nullptr) firstWarn = p;
  }
  d.allowed = true;
  if (firstPassed != nullptr) {
    d.policy = firstPassed->name;
    d.authority = firstVerifiedBy;
    d.mode = firstPassed->mode;
    d.verifiedDigest = std::string(digest);
    d.reason = fmt::format("image {} ({}) verified by authority {} of ClusterImagePolicy {}{}",
                           image, digest, firstVerifiedBy, firstPassed->name, firstIdentity);
    d.attestations = std::move(firstAttestations);
    d.reason += describeAttestations(d.attestations);
  } else {
    d.policy = firstWarn->name;
    d.mode = PolicyMode::kWarn;
    d.reason = "allowed in warn mode: " + d.warnings.front();
  }
  if (!d.warnings.empty() && firstPassed != nullptr) {
    d.reason += " (warn-mode policies failed: " + std::to_string(d.warnings.size()) + ")";
  }
  return d;
}

}  // namespace ramp::supply
