#include "traffic/nginx/upstream_render.h"

#include <openssl/evp.h>

#include <charconv>
#include <numeric>

namespace ramp::traffic::nginx {
namespace {

constexpr std::string_view kHeader = "# Managed by ramp (ramp/nginx); do not edit. canaryWeight=";

std::string shortSha256(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < 8 && i < len; ++i) {
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 0xf];
  }
  return out;
}

// Characters that could break out of the `server` line or the comment.
bool safeToken(std::string_view s) {
  for (char c : s) {
    if (c == ';' || c == '{' || c == '}' || c == '#' || c == '"' || c == '\'' || c == '\\' ||
        std::isspace(static_cast<unsigned char>(c)) ||
        std::iscntrl(static_cast<unsigned char>(c))) {
      return false;
    }
  }
  return !s.empty();
}

// The include: the header line, the upstream block and the map that names its digest.
RenderedUpstream finish(const NginxConfig& config, const std::string& header,
                        const std::string& block, bool satisfied) {
  RenderedUpstream out;
  out.digest = shortSha256(block);
  out.satisfied = satisfied;
  out.text = header + block + "map $host $" + config.stateVariable + " {\n    default \"" +
             out.digest + "\";\n}\n";
  return out;
}

}  // namespace

Result<RenderedUpstream> renderUpstream(const NginxConfig& config, const RevisionEndpoints& stable,
                                        const RevisionEndpoints& canary, int32_t canaryWeight,
                                        int32_t maxTrafficWeight,
                                        std::span<const RevisionEndpoints> draining) {
  if (maxTrafficWeight <= 0 || canaryWeight < 0 || canaryWeight > maxTrafficWeight) {
    return makeError(ErrorCode::kInvalidArgument, "canary weight " + std::to_string(canaryWeight) +
                                                      " is outside [0, " +
                                                      std::to_string(maxTrafficWeight) + "]");
  }
  const bool sameRevision = canary.podTemplateHash == stable.podTemplateHash;
  int64_t ns = 0, nc = 0;
  for (const auto& e : stable.endpoints) ns += e.ready ? 1 : 0;
  if (!sameRevision) {
    for (const auto& e : canary.endpoints) nc += e.ready ? 1 : 0;
  }
  if (ns + nc == 0) {
    return makeError(ErrorCode::kFailedPrecondition,
                     "no ready endpoint in the stable or the canary revision");
  }
  const int64_t w = sameRevision ? 0 : canaryWeight;
  const int64_t rest = maxTrafficWeight - w;
  int64_t stableEach = 0, canaryEach = 0;
  bool satisfied = true;
  if (w == 0 || nc == 0) {
    stableEach = ns > 0 ? 1 : 0;
    canaryEach = ns > 0 ? 0 : 1;
    satisfied = w == 0;
  } else if (rest == 0 || ns == 0) {
    canaryEach = 1;
    satisfied = rest == 0;
  } else {
    const int64_t g = std::gcd(w * ns, rest * nc);
    canaryEach = w * ns / g;
    stableEach = rest * nc / g;
  }
  std::string block = "upstream " + config.upstream + " {\n";
  auto addServers = [&](const RevisionEndpoints& rev, std::string_view role,
                        int64_t each) -> Status {
    for (const auto& e : rev.endpoints) {
      if (!safeToken(e.address) || e.port <= 0 || e.port > 65535) {
        return makeError(ErrorCode::kInvalidArgument,
                         "endpoint \"" + e.name + "\" has an unusable address or port");
      }
      std::string host =
          e.address.find(':') != std::string::npos ? "[" + e.address + "]" : e.address;
      block += "    server " + host + ":" + std::to_string(e.port);
      block += (e.ready && each > 0) ? " weight=" + std::to_string(each) : std::string(" down");
      block += ";  # " + std::string(role) + " " +
               (safeToken(rev.podTemplateHash) ? rev.podTemplateHash : std::string("-"));
      block += " " + (safeToken(e.name) ? e.name : std::string("-")) + "\n";
    }
    return {};
  };
  if (auto st = addServers(stable, "stable", stableEach); !st) return std::unexpected(st.error());
  if (!sameRevision) {
    if (auto st = addServers(canary, "canary", canaryEach); !st) {
      return std::unexpected(st.error());
    }
  }
  for (const auto& rev : draining) {
    if (rev.podTemplateHash == stable.podTemplateHash ||
        rev.podTemplateHash == canary.podTemplateHash) {
      continue;
    }
    if (auto st = addServers(rev, "draining", 0); !st) return std::unexpected(st.error());
  }
  if (config.keepalive > 0) block += "    keepalive " + std::to_string(config.keepalive) + ";\n";
  block += "}\n";
  if (!config.previewUpstream.empty()) {
    const RevisionEndpoints& preview = canary.podTemplateHash.empty() ? stable : canary;
    block += "upstream " + config.previewUpstream + " {\n";
    if (preview.endpoints.empty()) {
      block += "    server 127.0.0.1:1 down;  # placeholder: no preview replica yet\n";
    }
    if (auto st = addServers(preview, "preview", 1); !st) return std::unexpected(st.error());
    if (config.keepalive > 0) {
      block += "    keepalive " + std::to_string(config.keepalive) + ";\n";
    }
    block += "}\n";
  }
  return finish(config,
                std::string(kHeader) + std::to_string(canaryWeight) +
                    " maxTrafficWeight=" + std::to_string(maxTrafficWeight) + "\n",
                block, satisfied);
}

RenderedUpstream renderRemoved(const NginxConfig& config) {
  std::string block;
  for (const std::string* name : {&config.upstream, &config.previewUpstream}) {
    if (name->empty()) continue;
    block += "upstream " + *name +
             " {\n    server 127.0.0.1:1 down;  # placeholder: nginx needs a server\n}\n";
  }
  return finish(config,
                "# Managed by ramp (ramp/nginx); do not edit. Rollout deleted: no replicas.\n",
                block, true);
}

std::optional<int32_t> renderedCanaryWeight(std::string_view text) {
  if (!text.starts_with(kHeader)) return std::nullopt;
  text.remove_prefix(kHeader.size());
  int32_t v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || v < 0) return std::nullopt;
  return v;
}

}  // namespace ramp::traffic::nginx
