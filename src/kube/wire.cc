#include "kube/wire.h"

#include <nlohmann/json.hpp>

namespace ramp::kube {
namespace {

using nlohmann::json;

constexpr std::string_view kGoneMarker = "HTTP 410";

std::string cut(std::string_view s, size_t n) {
  std::string out(s.substr(0, n));
  if (s.size() > n) out += "…";
  return out;
}

std::string stringField(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

Error apiError(std::string_view verb, std::string_view resource, long httpStatus,
               std::string_view body) {
  std::string reason, message;
  json j = json::parse(body, nullptr, false);
  if (!j.is_discarded() && j.is_object() && stringField(j, "kind") == "Status") {
    reason = stringField(j, "reason");
    message = stringField(j, "message");
  } else {
    message = std::string(body);
  }
  ErrorCode code = ErrorCode::kInternal;
  switch (httpStatus) {
    case 400:
    case 422: code = ErrorCode::kInvalidArgument; break;
    case 401: code = ErrorCode::kUnauthenticated; break;
    case 403: code = ErrorCode::kPermissionDenied; break;
    case 404: code = ErrorCode::kNotFound; break;
    case 409:
      code = reason == "AlreadyExists" ? ErrorCode::kAlreadyExists : ErrorCode::kConflict;
      break;
    case 410: code = ErrorCode::kFailedPrecondition; break;
    case 504: code = ErrorCode::kDeadlineExceeded; break;
    default:
      if (httpStatus == 429 || httpStatus >= 500) code = ErrorCode::kUnavailable;
  }
  std::string text =
      std::string(verb) + " " + std::string(resource) + ": HTTP " + std::to_string(httpStatus);
  if (!reason.empty()) text += " " + cut(reason, 100);
  if (!message.empty()) text += ": " + cut(message, 1000);
  return Error{code, text};
}

bool isGone(const Error& error) {
  return error.code == ErrorCode::kFailedPrecondition &&
         error.message.find(kGoneMarker) != std::string::npos;
}

Result<ListPage> decodeListPage(std::string_view body, std::string_view resource) {
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return makeError(ErrorCode::kParse,
                     "list " + std::string(resource) + ": the answer is not JSON");
  }
  auto items = j.find("items");
  if (items == j.end() || !(items->is_array() || items->is_null())) {
    return makeError(ErrorCode::kParse,
                     "list " + std::string(resource) + ": the answer has no items array");
  }
  ListPage page;
  if (items->is_array()) {
    page.items.reserve(items->size());
    for (const json& item : *items) {
      if (!item.is_object()) {
        return makeError(ErrorCode::kParse,
                         "list " + std::string(resource) + ": an item is not an object");
      }
      page.items.push_back(item.dump());
    }
  }
  if (auto meta = j.find("metadata"); meta != j.end() && meta->is_object()) {
    page.resourceVersion = stringField(*meta, "resourceVersion");
    page.continueToken = stringField(*meta, "continue");
  }
  return page;
}

Result<WatchEvent> decodeWatchLine(std::string_view line) {
  json j = json::parse(line, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return makeError(ErrorCode::kParse, "watch: a line is not a JSON object");
  }
  std::string type = stringField(j, "type");
  auto object = j.find("object");
  if (object == j.end() || !object->is_object()) {
    return makeError(ErrorCode::kParse, "watch: an event has no object");
  }
  WatchEvent e;
  if (type == "ADDED") {
    e.type = WatchEvent::Type::kAdded;
  } else if (type == "MODIFIED") {
    e.type = WatchEvent::Type::kModified;
  } else if (type == "DELETED") {
    e.type = WatchEvent::Type::kDeleted;
  } else if (type == "BOOKMARK") {
    e.type = WatchEvent::Type::kBookmark;
  } else if (type == "ERROR") {
    e.type = WatchEvent::Type::kError;
    auto code = object->find("code");
    e.errorCode = code != object->end() && code->is_number_integer() ? code->get<long>() : 0;
    e.errorMessage = stringField(*object, "message");
  } else {
    return makeError(ErrorCode::kParse, "watch: unknown event type \"" + cut(type, 32) + "\"");
  }
  if (auto meta = object->find("metadata"); meta != object->end() && meta->is_object()) {
    e.resourceVersion = stringField(*meta, "resourceVersion");
  }
  e.object = object->dump();
  return e;
}

Result<std::vector<WatchEvent>> WatchDecoder::feed(std::string_view bytes) {
  std::vector<WatchEvent> out;
  buffer_.append(bytes);
  size_t start = 0;
  while (true) {
    size_t nl = buffer_.find('\n', start);
    if (nl == std::string::npos) break;
    std::string_view line(buffer_.data() + start, nl - start);
    start = nl + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    auto e = decodeWatchLine(line);
    if (!e) {
      buffer_.clear();
      return std::unexpected(e.error());
    }
    out.push_back(std::move(*e));
  }
  buffer_.erase(0, start);
  if (buffer_.size() > kMaxLineBytes) {
    buffer_.clear();
    return makeError(ErrorCode::kParse, "watch: a line is longer than 16 MiB");
  }
  return out;
}

}  // namespace ramp::kube
