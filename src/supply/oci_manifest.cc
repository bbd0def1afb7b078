#include "supply/oci_manifest.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "supply/oci_reference.h"

namespace ramp::supply {
namespace {

using Json = nlohmann::json;

std::unexpected<Error> bad(const std::string& what) {
  return makeError(ErrorCode::kParse, "manifest: " + what);
}

Result<std::string> optionalString(const Json& j, const char* key, const std::string& where) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::string();
  if (!it->is_string()) return bad(where + key + ": not a string");
  return it->get<std::string>();
}

Result<std::map<std::string, std::string>> annotations(const Json& j, const std::string& where) {
  std::map<std::string, std::string> out;
  auto it = j.find("annotations");
  if (it == j.end() || it->is_null()) return out;
  if (!it->is_object()) return bad(where + "annotations: not an object");
  for (const auto& [k, v] : it->items()) {
    if (!v.is_string()) return bad(fmt::format("{}annotations.{}: not a string", where, k));
    out[k] = v.get<std::string>();
  }
  return out;
}

Result<Descriptor> descriptor(const Json& j, const std::string& where) {
  if (!j.is_object()) return bad(where + ": not an object");
  Descriptor d;
  auto media = optionalString(j, "mediaType", where + ".");
  if (!media) return std::unexpected(media.error());
  d.mediaType = *media;
  auto digest = optionalString(j, "digest", where + ".");
  if (!digest) return std::unexpected(digest.error());
  if (auto ok = validateDigest(*digest); !ok) return bad(where + ".digest: " + ok.error().message);
  d.digest = *digest;
  auto size = j.find("size");
  if (size == j.end() || !size->is_number_integer()) {
    return bad(where + ".size: missing or not an integer");
  }
  d.size = size->get<int64_t>();
  if (d.size < 0) return bad(where + ".size: negative");
  auto artifact = optionalString(j, "artifactType", where + ".");
  if (!artifact) return std::unexpected(artifact.error());
  d.artifactType = *artifact;
  auto ann = annotations(j, where + ".");
  if (!ann) return std::unexpected(ann.error());
  d.annotations = std::move(*ann);
  return d;
}

Result<std::vector<Descriptor>> descriptorList(const Json& j, const char* key) {
  std::vector<Descriptor> out;
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return out;
  if (!it->is_array()) return bad(std::string(key) + ": not a list");
  for (size_t i = 0; i < it->size(); ++i) {
    auto d = descriptor((*it)[i], std::string(key) + "[" + std::to_string(i) + "]");
    if (!d) return std::unexpected(d.error());
    out.push_back(std::move(*d));
  }
  return out;
}

Json encodeDescriptor(const Descriptor& d) {
  Json j = Json::object();
  j["mediaType"] = d.mediaType;
  j["digest"] = d.digest;
  j["size"] = d.size;
  if (!d.artifactType.empty()) j["artifactType"] = d.artifactType;
  if (!d.annotations.empty()) j["annotations"] = d.annotations;
  return j;
}

}  // namespace

std::string manifestAcceptHeader() {
  return std::string(kOciManifestType) + ", " + std::string(kOciIndexType) + ", " +
         std::string(kDockerManifestType) + ", " + std::string(kDockerManifestListType);
}

Result<Manifest> parseManifest(std::string_view body, std::string_view contentType) {
  Json j = Json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return bad("not a JSON object");
  Manifest m;
  auto version = j.find("schemaVersion");
  if (version == j.end() || !version->is_number_integer()) {
    return bad("schemaVersion: missing or not an integer");
  }
  m.schemaVersion = version->get<int>();
  if (m.schemaVersion != 2) {
    return makeError(ErrorCode::kUnsupported, "manifest: schemaVersion " +
                                                  std::to_string(m.schemaVersion) +
                                                  " (only 2: OCI and Docker v2 schema 2)");
  }
  auto media = optionalString(j, "mediaType", "");
  if (!media) return std::unexpected(media.error());
  m.mediaType = *media;
  if (m.mediaType.empty()) {
    m.mediaType = std::string(contentType.substr(0, contentType.find(';')));
    while (!m.mediaType.empty() && m.mediaType.back() == ' ') m.mediaType.pop_back();
  }
  if (m.mediaType == kOciIndexType || m.mediaType == kDockerManifestListType) {
    m.isIndex = true;
  } else if (m.mediaType == kOciManifestType || m.mediaType == kDockerManifestType) {
    m.isIndex = false;
  } else if (m.mediaType.empty() || m.mediaType == "application/json") {
    m.isIndex = j.contains("manifests") && !j.contains("layers");  // OCI allows no mediaType
    m.mediaType = std::string(m.isIndex ? kOciIndexType : kOciManifestType);
  } else {
    return makeError(ErrorCode::kUnsupported, "manifest: media type \"" + m.mediaType +
                                                  "\" is not an image manifest or index");
  }
  auto artifact = optionalString(j, "artifactType", "");
  if (!artifact) return std::unexpected(artifact.error());
  m.artifactType = *artifact;
  if (m.isIndex) {
    auto list = descriptorList(j, "manifests");
    if (!list) return std::unexpected(list.error());
    m.manifests = std::move(*list);
  } else {
    auto config = j.find("config");
    if (config == j.end()) return bad("config: missing");
    auto c = descriptor(*config, "config");
    if (!c) return std::unexpected(c.error());
    m.config = std::move(*c);
    auto list = descriptorList(j, "layers");
    if (!list) return std::unexpected(list.error());
    m.layers = std::move(*list);
  }
  if (auto s = j.find("subject"); s != j.end() && !s->is_null()) {
    auto d = descriptor(*s, "subject");
    if (!d) return std::unexpected(d.error());
    m.subject = std::move(*d);
  }
  auto ann = annotations(j, "");
  if (!ann) return std::unexpected(ann.error());
  m.annotations = std::move(*ann);
  return m;
}

std::string encodeManifest(const Manifest& m) {
  Json j = Json::object();
  j["schemaVersion"] = m.schemaVersion;
  j["mediaType"] = m.mediaType;
  if (!m.artifactType.empty()) j["artifactType"] = m.artifactType;
  if (m.isIndex) {
    j["manifests"] = Json::array();
    for (const Descriptor& d : m.manifests) j["manifests"].push_back(encodeDescriptor(d));
  } else {
    if (m.config) j["config"] = encodeDescriptor(*m.config);
    j["layers"] = Json::array();
    for (const Descriptor& d : m.layers) j["layers"].push_back(encodeDescriptor(d));
  }
  if (m.subject) j["subject"] = encodeDescriptor(*m.subject);
  if (!m.annotations.empty()) j["annotations"] = m.annotations;
  return j.dump();
}

}  // namespace ramp::supply
