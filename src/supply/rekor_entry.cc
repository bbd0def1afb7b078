#include "supply/rekor_entry.h"

#include <nlohmann/json.hpp>

#include "audit/checkpoint.h"
#include "audit/merkle.h"
#include "common/base64.h"
#include "supply/sigstore_crypto.h"
#include "supply/verify_errors.h"

namespace ramp::supply {
namespace {

using Json = nlohmann::json;

constexpr std::string_view kEmDash = "\xE2\x80\x94";  // U+2014, signed-note signature lines

// The string at the dotted `path` of `j`, or nullopt.
std::optional<std::string> stringAt(const Json& j, std::initializer_list<const char*> path) {
  const Json* cur = &j;
  for (const char* key : path) {
    if (!cur->is_object()) return std::nullopt;
    auto it = cur->find(key);
    if (it == cur->end()) return std::nullopt;
    cur = &*it;
  }
  if (!cur->is_string()) return std::nullopt;
  return cur->get<std::string>();
}

// The member `key` of `j`, or null when `j` is not an object or has no such member.
const Json& member(const Json& j, const char* key) {
  static const Json kNull;
  if (!j.is_object()) return kNull;
  auto it = j.find(key);
  return it == j.end() ? kNull : *it;
}

// The elements of `j` when it is an array, else none.
const Json& elements(const Json& j) {
  static const Json kEmpty = Json::array();
  return j.is_array() ? j : kEmpty;
}

// A base64 PEM (as Rekor records public keys and certificates) as DER, or "".
std::string pemFieldToDer(const std::optional<std::string>& b64) {
  if (!b64) return "";
  auto pem = decodeBase64(*b64);
  if (!pem) return "";
  auto cert = Certificate::fromPem(*pem);
  return cert ? cert->der() : "";
}

Status checkDigest(const std::optional<std::string>& algorithm,
                   const std::optional<std::string>& value, std::string_view want,
                   const std::string& field) {
  if (algorithm.value_or("") != "sha256") {
    return failed("tlog: body " + field + ".algorithm is not sha256");
  }
  if (value.value_or("") != hexBytes(want)) {
    return failed("tlog: body " + field + " " + value.value_or("(none)") + " is not the bundle's " +
                  hexBytes(want));
  }
  return {};
}

}  // namespace

std::string setPayload(const TlogEntry& entry) {
  // nlohmann::json keeps object keys sorted and writes no whitespace: with only a string and
  // integers this is RFC 8785's canonical form.
  Json j;
  j["body"] = encodeBase64(entry.body);
  j["integratedTime"] = entry.integratedTime;
  j["logID"] = hexBytes(entry.logId);
  j["logIndex"] = entry.logIndex;
  return j.dump();
}

Status verifySet(const TlogEntry& entry, const TrustedLog& log) {
  if (!entry.signedEntryTimestamp) return failed("tlog: SET: the entry has no inclusionPromise");
  if (!log.validFor.contains(entry.integratedTime)) {
    return failed("tlog: SET: the key of log " + log.baseUrl +
                  " is not valid at the integrated time " + formatUnixTime(entry.integratedTime));
  }
  if (!log.key->verify(setPayload(entry), *entry.signedEntryTimestamp)) {
    return failed("tlog: SET does not verify with the key of log " + log.baseUrl + " (entry " +
                  std::to_string(entry.logIndex) + ")");
  }
  return {};
}

Status verifyInclusion(const TlogEntry& entry, const TrustedLog& log) {
  const TlogEntry::Proof& p = *entry.inclusionProof;
  if (p.rootHash.size() != 32) return failed("tlog: inclusion proof: rootHash is not 32 bytes");
  if (p.logIndex < 0 || p.treeSize <= 0 || p.hashes.size() > 64) {
    return failed("tlog: inclusion proof: logIndex, treeSize or hashes out of range");
  }
  audit::Hash root{};
  std::copy(p.rootHash.begin(), p.rootHash.end(), root.begin());
  std::vector<audit::Hash> path;
  for (size_t i = 0; i < p.hashes.size(); ++i) {
    if (p.hashes[i].size() != 32) {
      return failed("tlog: inclusion proof: hashes[" + std::to_string(i) + "] is not 32 bytes");
    }
    audit::Hash h{};
    std::copy(p.hashes[i].begin(), p.hashes[i].end(), h.begin());
    path.push_back(h);
  }
  if (auto ok =
          audit::verifyInclusion(audit::leafHash(entry.body), static_cast<uint64_t>(p.logIndex),
                                 static_cast<uint64_t>(p.treeSize), path, root);
      !ok) {
    return failed("tlog: inclusion proof does not verify: " + ok.error().message);
  }
  if (p.checkpoint.empty()) return {};
  const std::string& note = p.checkpoint;
  size_t sep = note.find("\n\n");
  if (sep == std::string::npos) {
    return failed("tlog: checkpoint signature: the note has no blank line before its signatures");
  }
  std::string_view text = std::string_view(note).substr(0, sep + 1);
  auto cp = audit::parseCheckpointText(text);
  if (!cp) return failed("tlog: checkpoint: " + cp.error().message);
  std::string_view sigs = std::string_view(note).substr(sep + 2);
  std::string hint = log.logId.substr(0, 4);
  bool found = false;
  while (!sigs.empty()) {
    size_t nl = sigs.find('\n');
    std::string_view line = sigs.substr(0, nl);
    sigs = nl == std::string_view::npos ? std::string_view() : sigs.substr(nl + 1);
    if (line.empty()) continue;
    if (!line.starts_with(kEmDash)) {
      return failed("tlog: checkpoint signature: a signature line does not start with an em dash");
    }
    size_t space = line.rfind(' ');
    auto blob = decodeBase64(line.substr(space + 1));
    if (!blob || blob->size() < 5 || blob->substr(0, 4) != hint) continue;  // another signer
    found = true;
    if (!log.key->verify(text, std::string_view(*blob).substr(4))) {
      return failed("tlog: checkpoint signature does not verify with the key of log " +
                    log.baseUrl);
    }
  }
  if (!found) {
    return failed("tlog: checkpoint signature: none by the key of log " + log.baseUrl +
                  " (key hint " + hexBytes(hint) + ")");
  }
  if (cp->size != static_cast<uint64_t>(p.treeSize) ||
      !std::equal(root.begin(), root.end(), cp->root.begin())) {
    return failed("tlog: inclusion proof: its tree (size " + std::to_string(p.treeSize) +
                  ") is not the checkpoint's (size " + std::to_string(cp->size) + ")");
  }
  return {};
}

Status checkBodyBindsBundle(const TlogEntry& entry, const KeylessBundle& bundle,
                            std::string_view leafDer) {
  Json body = Json::parse(entry.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) return failed("tlog: body is not a JSON object");
  std::string kind = stringAt(body, {"kind"}).value_or("");
  std::string version = stringAt(body, {"apiVersion"}).value_or("");
  if (kind != entry.kind || version != entry.version) {
    return failed("tlog: body is a " + kind + " " + version + " entry, the entry says " +
                  entry.kind + " " + entry.version);
  }
  const Json& spec = member(body, "spec");
  bool message = bundle.content == KeylessBundle::Content::kMessage;
  if (kind == "hashedrekord" && version == "0.0.1") {
    if (!message)
      return failed("tlog: body is a hashedrekord entry, the bundle is a DSSE envelope");
    auto sig = decodeBase64(stringAt(spec, {"signature", "content"}).value_or("!"));
    if (!sig || *sig != bundle.messageSignature) {
      return failed("tlog: body signature.content is not the bundle's signature");
    }
    if (pemFieldToDer(stringAt(spec, {"signature", "publicKey", "content"})) != leafDer) {
      return failed("tlog: body signature.publicKey is not the bundle's certificate");
    }
    return checkDigest(stringAt(spec, {"data", "hash", "algorithm"}),
                       stringAt(spec, {"data", "hash", "value"}), bundle.messageDigest,
                       "data.hash");
  }
  if (message) {
    return failed("tlog: body is a " + kind + " entry, the bundle is a message signature");
  }
  if (bundle.signatures.empty()) return failed("tlog: body: the bundle has no signature");
  const std::string& sig = bundle.signatures.front().sig;
  std::string payloadHash = sha256Bytes(bundle.payload);
  if (kind == "dsse" && version == "0.0.1") {
    if (auto ok = checkDigest(stringAt(spec, {"payloadHash", "algorithm"}),
                              stringAt(spec, {"payloadHash", "value"}), payloadHash, "payloadHash");
        !ok) {
      return ok;
    }
    for (const Json& s : elements(member(spec, "signatures"))) {
      auto logged = decodeBase64(stringAt(s, {"signature"}).value_or("!"));
      if (logged && *logged == sig && pemFieldToDer(stringAt(s, {"verifier"})) == leafDer) {
        return {};
      }
    }
    return failed("tlog: body signatures do not include the bundle's signature and certificate");
  }
  if (kind == "intoto" && version == "0.0.2") {
    if (auto ok = checkDigest(stringAt(spec, {"content", "payloadHash", "algorithm"}),
                              stringAt(spec, {"content", "payloadHash", "value"}), payloadHash,
                              "content.payloadHash");
        !ok) {
      return ok;
    }
    const Json& env = member(member(spec, "content"), "envelope");
    if (stringAt(env, {"payloadType"}) != bundle.payloadType) {
      return failed("tlog: body content.envelope.payloadType is not the bundle's");
    }
    for (const Json& s : elements(member(env, "signatures"))) {
      // intoto 0.0.2 stores the signature base64-encoded twice.
      auto once = decodeBase64(stringAt(s, {"sig"}).value_or("!"));
      auto logged = once ? decodeBase64(*once) : once;
      if (logged && *logged == sig && pemFieldToDer(stringAt(s, {"publicKey"})) == leafDer) {
        return {};
      }
    }
    return failed(
        "tlog: body content.envelope.signatures do not include the bundle's signature and "
        "certificate");
  }
  return makeError(ErrorCode::kUnsupported,
                   "tlog: unsupported entry kind " + kind + " " + version +
                       " (hashedrekord 0.0.1, dsse 0.0.1 and intoto 0.0.2 are read)");
}

}  // namespace ramp::supply
