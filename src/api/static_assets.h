#pragma once

// The dashboard's files (web/: HTML, CSS, ES modules), compiled into the binary at build time by
// cmake/embed_web.cmake, so one `ramp` binary serves them from anywhere and offline. The server
// answers GET / with /index.html and GET /PATH with web/PATH, without a token (the data the
// dashboard shows comes from the API, which needs one), with the headers below.
//
// Thread safety: immutable data and pure functions.

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ramp::api {

// One file as the build embedded it (defined in the generated web_assets.cc).
struct EmbeddedFile {
  const char* path;  // "/index.html", "/js/main.js"
  const unsigned char* data;
  size_t size;
  const char* sha256;  // lower-case hex of the content
};
std::span<const EmbeddedFile> embeddedFiles();

struct StaticAsset {
  std::string path;         // "/index.html"
  std::string contentType;  // "text/html; charset=utf-8", …
  std::string_view body;
  std::string etag;  // a strong validator: "\"<first 32 hex digits of the SHA-256>\""
};

// Every embedded file, sorted by path.
const std::vector<StaticAsset>& staticAssets();

// The asset a GET of `urlPath` names ("/" and "/index.html" are the page); nullptr when none.
// Only exact paths of embedded files match, so nothing outside web/ can be named.
const StaticAsset* findStaticAsset(std::string_view urlPath);

// The Content-Type for a file name by its extension (.html, .js/.mjs, .css, .svg, .png, .json,
// .ico, .txt, .woff2); "application/octet-stream" otherwise.
std::string contentTypeFor(std::string_view path);

// Sent with every asset: the page may load scripts, styles, images and data only from this
// server (no inline script or style, nothing from a CDN), may not be framed, and browsers must
// not guess content types. Cache-Control no-cache + ETag: the browser revalidates each time, so
// a new binary's assets are used at once while unchanged ones cost a 304.
inline constexpr std::string_view kContentSecurityPolicy =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'";
inline constexpr std::string_view kAssetCacheControl = "no-cache";

// Whether an If-None-Match header value matches `etag` ("*", or a list that contains it, weak
// or strong).
bool etagMatches(std::string_view ifNoneMatch, std::string_view etag);

}  // namespace ramp::api
