#include "api/static_assets.h"

#include <algorithm>

namespace ramp::api {

std::string contentTypeFor(std::string_view path) {
  struct Type {
    std::string_view ext;
    std::string_view type;
  };
  static constexpr Type kTypes[] = {
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".ico", "image/x-icon"},
      {".json", "application/json"},
      {".txt", "text/plain; charset=utf-8"},
      {".woff2", "font/woff2"},
  };
  for (const Type& t : kTypes) {
    if (path.size() >= t.ext.size() && path.substr(path.size() - t.ext.size()) == t.ext) {
      return std::string(t.type);
    }
  }
  return "application/octet-stream";
}

const std::vector<StaticAsset>& staticAssets() {
  static const std::vector<StaticAsset> assets = [] {
    std::vector<StaticAsset> out;
    for (const EmbeddedFile& f : embeddedFiles()) {
      std::string etag;
      etag.reserve(34);
      etag.append(1, '"').append(std::string_view(f.sha256).substr(0, 32)).append(1, '"');
      out.push_back(StaticAsset{f.path, contentTypeFor(f.path),
                                std::string_view(reinterpret_cast<const char*>(f.data), f.size),
                                std::move(etag)});
    }
    std::sort(out.begin(), out.end(),
              [](const StaticAsset& a, const StaticAsset& b) { return a.path < b.path; });
    return out;
  }();
  return assets;
}

const StaticAsset* findStaticAsset(std::string_view urlPath) {
  if (urlPath == "/") urlPath = "/index.html";
  const auto& assets = staticAssets();
  auto it = std::lower_bound(assets.begin(), assets.end(), urlPath,
                             [](const StaticAsset& a, std::string_view p) { return a.path < p; });
  return it != assets.end() && it->path == urlPath ? &*it : nullptr;
}

bool etagMatches(std::string_view ifNoneMatch, std::string_view etag) {
  size_t i = 0;
  while (i < ifNoneMatch.size()) {
    size_t comma = ifNoneMatch.find(',', i);
    if (comma == std::string_view::npos) comma = ifNoneMatch.size();
    std::string_view tag = ifNoneMatch.substr(i, comma - i);
    while (!tag.empty() && (tag.front() == ' ' || tag.front() == '\t')) tag.remove_prefix(1);
    while (!tag.empty() && (tag.back() == ' ' || tag.back() == '\t')) tag.remove_suffix(1);
    if (tag.starts_with("W/")) tag.remove_prefix(2);
    if (tag == "*" || tag == etag) return true;
    i = comma + 1;
  }
  return false;
}

}  // namespace ramp::api
