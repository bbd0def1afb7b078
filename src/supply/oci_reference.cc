#include "supply/oci_reference.h"

#include <openssl/evp.h>

#include <array>
#include <cctype>

namespace ramp::supply {
namespace {

Result<ImageReference> bad(std::string_view text, const std::string& why) {
  return makeError(ErrorCode::kInvalidArgument,
                   "image reference \"" + std::string(text) + "\": " + why);
}

bool isLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// A repository path component: [a-z0-9]+ joined by ".", "_", "__" or any run of "-".
bool validComponent(std::string_view c) {
  if (c.empty() || !isLowerAlnum(c.front()) || !isLowerAlnum(c.back())) return false;
  for (size_t i = 0; i < c.size();) {
    if (isLowerAlnum(c[i])) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < c.size() && !isLowerAlnum(c[j])) ++j;
    std::string_view sep = c.substr(i, j - i);
    bool dashes = sep.find_first_not_of('-') == std::string_view::npos;
    if (!(sep == "." || sep == "_" || sep == "__" || dashes)) return false;
    i = j;
  }
  return true;
}

// A tag: [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}.
bool validTag(std::string_view t) {
  if (t.empty() || t.size() > 128) return false;
  auto word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  if (!word(t[0])) return false;
  for (char c : t) {
    if (!word(c) && c != '.' && c != '-') return false;
  }
  return true;
}

// A registry host[:port]: letters, digits, '.', '-', an optional numeric port, or a bracketed
// IPv6 address.
bool validRegistry(std::string_view r) {
  if (r.empty()) return false;
  size_t colon = r.rfind(':');
  std::string_view host = r;
  if (colon != std::string_view::npos && r.find(']') == std::string_view::npos) {
    std::string_view port = r.substr(colon + 1);
    if (port.empty() || port.find_first_not_of("0123456789") != std::string_view::npos) {
      return false;
    }
    host = r.substr(0, colon);
  }
  if (host.empty()) return false;
  if (host.front() == '[') return host.back() == ']' || r.find("]:") != std::string_view::npos;
  for (char c : host) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-') return false;
  }
  return true;
}

}  // namespace

std::string ImageReference::name() const {
  return digest.empty() ? repositoryName() + ":" + tag : repositoryName() + "@" + digest;
}

std::string ImageReference::str() const {
  std::string s = repositoryName();
  if (!tag.empty()) s += ":" + tag;
  if (!digest.empty()) s += "@" + digest;
  return s;
}

Result<ImageReference> parseImageReference(std::string_view text) {
  if (text.empty()) return bad(text, "empty");
  if (text.size() > 4096) return bad(text.substr(0, 64), "longer than 4096 characters");
  ImageReference ref;
  std::string_view rest = text;
  if (size_t at = rest.find('@'); at != std::string_view::npos) {
    ref.digest = std::string(rest.substr(at + 1));
    if (auto ok = validateDigest(ref.digest); !ok) return bad(text, ok.error().message);
    rest = rest.substr(0, at);
  }
  size_t slash = rest.rfind('/');
  size_t colon = rest.rfind(':');
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) {
    ref.tag = std::string(rest.substr(colon + 1));
    if (!validTag(ref.tag)) return bad(text, "invalid tag \"" + ref.tag + "\"");
    rest = rest.substr(0, colon);
  }
  size_t first = rest.find('/');
  std::string_view head = rest.substr(0, first);
  bool hasRegistry = first != std::string_view::npos &&
                     (head.find_first_of(".:") != std::string_view::npos || head == "localhost" ||
                      head.find_first_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ") != std::string_view::npos);
  std::string_view path = rest;
  if (hasRegistry) {
    if (!validRegistry(head)) return bad(text, "invalid registry \"" + std::string(head) + "\"");
    ref.registry = std::string(head);
    path = rest.substr(first + 1);
  } else {
    ref.registry = std::string(kDockerHubRegistry);
  }
  if (ref.registry == "docker.io") ref.registry = std::string(kDockerHubRegistry);
  if (path.empty()) return bad(text, "no repository");
  for (size_t b = 0;;) {
    size_t e = path.find('/', b);
    std::string_view comp = path.substr(b, e == std::string_view::npos ? e : e - b);
    if (!validComponent(comp)) {
      return bad(text, "invalid repository path component \"" + std::string(comp) + "\"");
    }
    if (e == std::string_view::npos) break;
    b = e + 1;
  }
  ref.repository = std::string(path);
  if (ref.registry == kDockerHubRegistry && ref.repository.find('/') == std::string::npos) {
    ref.repository = "library/" + ref.repository;
  }
  if (ref.tag.empty() && ref.digest.empty()) ref.tag = "latest";
  if (ref.repositoryName().size() > 255) return bad(text, "name longer than 255 characters");
  return ref;
}

std::string sha256Digest(std::string_view bytes) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int n = 0;
  EVP_Digest(bytes.data(), bytes.size(), md.data(), &n, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "sha256:";
  for (unsigned int i = 0; i < n; ++i) {
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 15];
  }
  return out;
}

Status validateDigest(std::string_view digest) {
  constexpr std::string_view kPrefix = "sha256:";
  bool ok =
      digest.size() == kPrefix.size() + 64 && digest.substr(0, kPrefix.size()) == kPrefix &&
      digest.substr(kPrefix.size()).find_first_not_of("0123456789abcdef") == std::string_view::npos;
  if (!ok) {
    return makeError(ErrorCode::kInvalidArgument,
                     "digest \"" + std::string(digest.substr(0, 100)) +
                         "\" is not sha256: followed by 64 lower-case hex digits");
  }
  return {};
}

Status checkDigest(std::string_view bytes, std::string_view expected) {
  if (auto ok = validateDigest(expected); !ok) return ok;
  std::string got = sha256Digest(bytes);
  if (got != expected) {
    return makeError(ErrorCode::kFailedPrecondition,
                     "digest mismatch: expected " + std::string(expected) + ", got " + got);
  }
  return {};
}

}  // namespace ramp::supply
