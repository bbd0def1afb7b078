#include "audit/checkpoint.h"

#include <charconv>
#include <vector>

#include "common/base64.h"

namespace ramp::audit {
namespace {

constexpr std::string_view kEmDash = "\xE2\x80\x94";  // U+2014

std::unexpected<Error> parseError(const std::string& what) {
  return makeError(ErrorCode::kParse, "checkpoint: " + what);
}

std::vector<std::string_view> lines(std::string_view text) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string_view::npos) nl = text.size();
    out.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return out;
}

}  // namespace

uint32_t noteKeyId(const VerifyingKey& key) {
  Hash h = sha256(key.der());
  return static_cast<uint32_t>(h[0]) << 24 | static_cast<uint32_t>(h[1]) << 16 |
         static_cast<uint32_t>(h[2]) << 8 | static_cast<uint32_t>(h[3]);
}

std::string checkpointText(const Checkpoint& c) {
  std::string root(reinterpret_cast<const char*>(c.root.data()), c.root.size());
  return c.origin + "\n" + std::to_string(c.size) + "\n" + encodeBase64(root) + "\n";
}

Result<std::string> signCheckpoint(const Checkpoint& c, std::string_view keyName,
                                   const SigningKey& key) {
  if (keyName.empty() || keyName.find_first_of(" +\n\t") != std::string_view::npos) {
    return makeError(ErrorCode::kInvalidArgument,
                     "checkpoint: a key name is non-empty, without spaces or '+'");
  }
  if (c.origin.empty() || c.origin.find('\n') != std::string::npos) {
    return makeError(ErrorCode::kInvalidArgument, "checkpoint: the origin is one non-empty line");
  }
  std::string text = checkpointText(c);
  auto sig = key.sign(text);
  if (!sig) return std::unexpected(sig.error());
  uint32_t id = noteKeyId(key.publicKey());
  std::string blob = {static_cast<char>(id >> 24), static_cast<char>(id >> 16),
                      static_cast<char>(id >> 8), static_cast<char>(id)};
  blob += *sig;
  return text + "\n" + std::string(kEmDash) + " " + std::string(keyName) + " " +
         encodeBase64(blob) + "\n";
}

Result<Checkpoint> parseCheckpointText(std::string_view text) {
  std::vector<std::string_view> body = lines(text);
  if (body.size() < 3) return parseError("the text has fewer than 3 lines");
  Checkpoint c;
  c.origin = std::string(body[0]);
  if (c.origin.empty()) return parseError("line 1: the origin is empty");
  auto [p, ec] = std::from_chars(body[1].data(), body[1].data() + body[1].size(), c.size);
  if (ec != std::errc() || p != body[1].data() + body[1].size() || body[1].empty() ||
      (body[1].size() > 1 && body[1][0] == '0')) {
    return parseError("line 2: the tree size is not a decimal number");
  }
  auto root = decodeBase64(body[2]);
  if (!root || root->size() != 32)
    return parseError("line 3: the tree head is not 32 bytes of base64");
  std::copy(root->begin(), root->end(), c.root.begin());
  return c;
}

Result<Checkpoint> verifyCheckpoint(std::string_view note, std::string_view keyName,
                                    const VerifyingKey& key) {
  size_t sep = note.rfind("\n\n");
  if (sep == std::string_view::npos) return parseError("no blank line before the signatures");
  std::string_view text = note.substr(0, sep + 1);
  auto parsed = parseCheckpointText(text);
  if (!parsed) return parsed;
  Checkpoint c = std::move(*parsed);

  const uint32_t want = noteKeyId(key);
  bool known = false;
  std::vector<std::string_view> sigLines = lines(note.substr(sep + 2));
  if (sigLines.empty()) return parseError("no signature lines");
  for (size_t i = 0; i < sigLines.size(); ++i) {
    std::string_view line = sigLines[i];
    std::string where = "signature line " + std::to_string(i + 1);
    if (!line.starts_with(kEmDash) || line.size() < kEmDash.size() + 1 ||
        line[kEmDash.size()] != ' ') {
      return parseError(where + ": does not start with an em dash and a space");
    }
    std::string_view rest = line.substr(kEmDash.size() + 1);
    size_t space = rest.find(' ');
    if (space == std::string_view::npos) return parseError(where + ": no signature");
    std::string_view name = rest.substr(0, space);
    auto blob = decodeBase64(rest.substr(space + 1));
    if (!blob || blob->size() < 5) return parseError(where + ": the signature is not base64");
    uint32_t id = static_cast<uint32_t>(static_cast<uint8_t>((*blob)[0])) << 24 |
                  static_cast<uint32_t>(static_cast<uint8_t>((*blob)[1])) << 16 |
                  static_cast<uint32_t>(static_cast<uint8_t>((*blob)[2])) << 8 |
                  static_cast<uint32_t>(static_cast<uint8_t>((*blob)[3]));
    if (name != keyName || id != want) continue;  // another key's signature
    known = true;
    if (auto ok = key.verify(text, std::string_view(*blob).substr(4)); !ok) {
      return makeError(ErrorCode::kInvalidArgument,
                       "checkpoint: the signature of " + std::string(keyName) +
                           " does not verify (the note was changed after signing)");
    }
  }
  if (!known) {
    return makeError(ErrorCode::kInvalidArgument,
                     "checkpoint: no signature by " + std::string(keyName));
  }
  return c;
}

}  // namespace ramp::audit
