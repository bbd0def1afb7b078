#include "spec/gitops_values.h"

#include <array>

namespace ramp::spec {
namespace {

// Splits "repo[:tag][@digest]" into its parts (the tag's ':' comes after the last '/', so a
// registry port is not a tag).
struct ImageParts {
  std::string name, tag, digest;
};

ImageParts splitImage(std::string_view image) {
  ImageParts p;
  if (size_t at = image.find('@'); at != std::string_view::npos) {
    p.digest = std::string(image.substr(at + 1));
    image = image.substr(0, at);
  }
  const size_t slash = image.rfind('/');
  const size_t colon = image.rfind(':');
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) {
    p.tag = std::string(image.substr(colon + 1));
    image = image.substr(0, colon);
  }
  p.name = std::string(image);
  return p;
}

constexpr std::array<std::string_view, 2> kApplied = {"ApplyOutOfSyncOnly", "PruneLast"};
constexpr std::array<std::string_view, 12> kKnown = {"Validate",
                                                     "CreateNamespace",
                                                     "PrunePropagationPolicy",
                                                     "Replace",
                                                     "ServerSideApply",
                                                     "RespectIgnoreDifferences",
                                                     "FailOnSharedResource",
                                                     "SkipDryRunOnMissingResource",
                                                     "Prune",
                                                     "Delete",
                                                     "ClientSideApplyMigration",
                                                     "Force"};

}  // namespace

Result<ImageOverride> parseImageOverride(std::string_view text) {
  ImageOverride o;
  if (text.empty()) return makeError(ErrorCode::kInvalidArgument, "must not be empty");
  std::string_view target = text;
  if (size_t eq = text.find('='); eq != std::string_view::npos) {
    o.name = std::string(text.substr(0, eq));
    target = text.substr(eq + 1);
    if (o.name.empty() || target.empty()) {
      return makeError(ErrorCode::kInvalidArgument,
                       "\"" + std::string(text) + "\": expected name=newName[:tag|@digest]");
    }
    ImageParts p = splitImage(target);
    o.newName = p.name;
    o.newTag = p.tag;
    o.digest = p.digest;
  } else {
    ImageParts p = splitImage(text);
    if (p.tag.empty() && p.digest.empty()) {
      return makeError(ErrorCode::kInvalidArgument,
                       "\"" + std::string(text) +
                           "\" changes nothing: give a tag (name:tag), a digest (name@sha256:…) or "
                           "a new name (name=newName)");
    }
    o.name = p.name;
    o.newTag = p.tag;
    o.digest = p.digest;
  }
  if (o.name.empty() || (!o.digest.empty() && o.digest.find(':') == std::string::npos)) {
    return makeError(ErrorCode::kInvalidArgument,
                     "\"" + std::string(text) + "\" is not an image override");
  }
  return o;
}

std::string imageName(std::string_view image) { return splitImage(image).name; }

std::optional<std::string> applyImageOverride(std::string_view image,
                                              const ImageOverride& override) {
  ImageParts p = splitImage(image);
  if (p.name != override.name) return std::nullopt;
  std::string out = override.newName.empty() ? p.name : override.newName;
  if (!override.digest.empty()) return out + "@" + override.digest;
  const std::string tag = override.newTag.empty() ? p.tag : override.newTag;
  if (!tag.empty()) out += ":" + tag;
  if (override.newTag.empty() && !p.digest.empty()) out += "@" + p.digest;
  return out;
}

std::string syncOptionValue(const std::vector<std::string>& options, std::string_view key) {
  std::string value;
  for (const std::string& o : options) {
    const size_t eq = o.find('=');
    if (eq != std::string::npos && std::string_view(o).substr(0, eq) == key) {
      value = o.substr(eq + 1);
    }
  }
  return value;
}

bool syncOptionApplies(std::string_view key) {
  for (std::string_view k : kApplied)
    if (k == key) return true;
  return false;
}

bool syncOptionKnown(std::string_view key) {
  for (std::string_view k : kKnown)
    if (k == key) return true;
  return syncOptionApplies(key);
}

}  // namespace ramp::spec
