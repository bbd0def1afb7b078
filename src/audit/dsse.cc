#include "audit/dsse.h"

#include <nlohmann/json.hpp>

#include "common/base64.h"

namespace ramp::audit {

std::string pae(std::string_view payloadType, std::string_view payload) {
  return "DSSEv1 " + std::to_string(payloadType.size()) + " " + std::string(payloadType) + " " +
         std::to_string(payload.size()) + " " + std::string(payload);
}

Result<Envelope> signEnvelope(std::string_view payloadType, std::string_view payload,
                              const SigningKey& key) {
  auto sig = key.sign(pae(payloadType, payload));
  if (!sig) return std::unexpected(sig.error());
  return Envelope{
      std::string(payloadType), std::string(payload), {{key.publicKey().keyId(), std::move(*sig)}}};
}

Status verifyEnvelope(const Envelope& envelope, const VerifyingKey& key) {
  const std::string id = key.keyId();
  const std::string message = pae(envelope.payloadType, envelope.payload);
  bool found = false;
  for (const DsseSignature& s : envelope.signatures) {
    if (!s.keyId.empty() && s.keyId != id) continue;
    if (s.keyId.empty() && envelope.signatures.size() != 1) continue;
    found = true;
    if (key.verify(message, s.sig)) return {};
  }
  if (!found) {
    return makeError(ErrorCode::kInvalidArgument, "no signature by key " + id.substr(0, 16));
  }
  return makeError(ErrorCode::kInvalidArgument, "signature does not verify");
}

std::string encodeEnvelope(const Envelope& e) {
  nlohmann::ordered_json j;
  j["payloadType"] = e.payloadType;
  j["payload"] = encodeBase64(e.payload);
  j["signatures"] = nlohmann::ordered_json::array();
  for (const DsseSignature& s : e.signatures) {
    j["signatures"].push_back({{"keyid", s.keyId}, {"sig", encodeBase64(s.sig)}});
  }
  return j.dump();
}

Result<Envelope> decodeEnvelope(std::string_view json) {
  auto j = nlohmann::json::parse(json, nullptr, false);
  auto bad = [](const std::string& what) {
    return makeError(ErrorCode::kParse, "DSSE envelope: " + what);
  };
  if (j.is_discarded() || !j.is_object()) return bad("not a JSON object");
  auto type = j.find("payloadType");
  auto payload = j.find("payload");
  auto sigs = j.find("signatures");
  if (type == j.end() || !type->is_string()) return bad("payloadType: missing or not a string");
  if (payload == j.end() || !payload->is_string()) return bad("payload: missing or not a string");
  if (sigs == j.end() || !sigs->is_array()) return bad("signatures: missing or not a list");
  Envelope e;
  e.payloadType = type->get<std::string>();
  auto body = decodeBase64(payload->get<std::string>());
  if (!body) return bad("payload: not base64");
  e.payload = std::move(*body);
  for (size_t i = 0; i < sigs->size(); ++i) {
    const auto& s = (*sigs)[i];
    std::string where = "signatures[" + std::to_string(i) + "]";
    if (!s.is_object()) return bad(where + ": not an object");
    auto sig = s.find("sig");
    if (sig == s.end() || !sig->is_string()) return bad(where + ".sig: missing or not a string");
    auto raw = decodeBase64(sig->get<std::string>());
    if (!raw) return bad(where + ".sig: not base64");
    DsseSignature d;
    d.sig = std::move(*raw);
    if (auto k = s.find("keyid"); k != s.end()) {
      if (!k->is_string()) return bad(where + ".keyid: not a string");
      d.keyId = k->get<std::string>();
    }
    e.signatures.push_back(std::move(d));
  }
  return e;
}

}  // namespace ramp::audit
