#pragma once

// What the API server sends back, decoded without trusting it: a failure's Status body (as an
// Error naming the verb, the resource and the HTTP status), a list page (its items as raw JSON,
// the list's resourceVersion and continue token), and a watch stream (newline-delimited
// {"type","object"} frames that may be split anywhere across reads). Objects stay opaque JSON
// text: the modules that own a kind decode it (spec/codec.h for Argo's kinds).
//
// Thread safety: the functions are pure; a WatchDecoder belongs to one stream (one thread).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ramp/error.h"

namespace ramp::kube {

// A failed request as an Error: "VERB RESOURCE: HTTP STATUS REASON: MESSAGE", with the code
// Kubernetes' status maps to (404 kNotFound, 409 kConflict or, reason AlreadyExists,
// kAlreadyExists, 401 kUnauthenticated, 403 kPermissionDenied, 400/422 kInvalidArgument,
// 410 kFailedPrecondition (Gone: relist), 429 and 5xx kUnavailable, 504 kDeadlineExceeded).
// `body` may be a Status object, other text, or empty; its message is cut to 1,000 bytes.
Error apiError(std::string_view verb, std::string_view resource, long httpStatus,
               std::string_view body);

// True for an Error apiError made from HTTP 410 (an expired resourceVersion or continue token).
bool isGone(const Error& error);

// One page of a list.
struct ListPage {
  std::vector<std::string> items;  // each object as JSON text
  std::string resourceVersion;     // the list's (start a watch from it)
  std::string continueToken;       // "" on the last page
};
// Errors: kParse naming `resource` when the body is not a list object.
Result<ListPage> decodeListPage(std::string_view body, std::string_view resource);

struct WatchEvent {
  enum class Type { kAdded, kModified, kDeleted, kBookmark, kError };
  Type type = Type::kAdded;
  std::string object;           // the object's JSON text (a Status for kError)
  std::string resourceVersion;  // the object's metadata.resourceVersion
  long errorCode = 0;           // kError: the Status code (410 = resourceVersion too old)
  std::string errorMessage;     // kError: the Status message
};

// Splits a watch response body into events as bytes arrive.
class WatchDecoder {
 public:
  // Adds bytes; returns the events completed by them, in order. Errors: kParse for a line that
  // is not a watch event (the stream must be dropped and the watch restarted), or a line longer
  // than maxLineBytes.
  Result<std::vector<WatchEvent>> feed(std::string_view bytes);

  // Bytes of an incomplete line held back.
  size_t pending() const { return buffer_.size(); }

  static constexpr size_t kMaxLineBytes = 16 * 1024 * 1024;

 private:
  std::string buffer_;
};

// Decodes one watch line (no trailing newline). Errors: kParse.
Result<WatchEvent> decodeWatchLine(std::string_view line);

}  // namespace ramp::kube
