#include "cli/output.h"

#include <yaml.h>

#include <nlohmann/json.hpp>

namespace ramp::cli {
namespace {

using nlohmann::json;

bool emit(yaml_emitter_t* e, yaml_event_t* ev) { return yaml_emitter_emit(e, ev) == 1; }

bool emitScalar(yaml_emitter_t* e, const std::string& value, bool plainAllowed) {
  yaml_event_t ev;
  yaml_scalar_event_initialize(
      &ev, nullptr, nullptr, reinterpret_cast<yaml_char_t*>(const_cast<char*>(value.c_str())),
      static_cast<int>(value.size()), plainAllowed ? 1 : 0, plainAllowed ? 0 : 1,
      plainAllowed ? YAML_ANY_SCALAR_STYLE : YAML_DOUBLE_QUOTED_SCALAR_STYLE);
  return emit(e, &ev);
}

bool emitNode(yaml_emitter_t* e, const json& j) {
  yaml_event_t ev;
  if (j.is_object()) {
    yaml_mapping_start_event_initialize(&ev, nullptr, nullptr, 1, YAML_BLOCK_MAPPING_STYLE);
    if (!emit(e, &ev)) return false;
    for (const auto& [k, v] : j.items()) {
      if (!emitScalar(e, k, true) || !emitNode(e, v)) return false;
    }
    yaml_mapping_end_event_initialize(&ev);
    return emit(e, &ev);
  }
  if (j.is_array()) {
    yaml_sequence_start_event_initialize(&ev, nullptr, nullptr, 1, YAML_BLOCK_SEQUENCE_STYLE);
    if (!emit(e, &ev)) return false;
    for (const json& v : j) {
      if (!emitNode(e, v)) return false;
    }
    yaml_sequence_end_event_initialize(&ev);
    return emit(e, &ev);
  }
  if (j.is_string()) {
    // Strings that would read back as another type ("true", "1", "") are quoted.
    const std::string& s = j.get_ref<const std::string&>();
    json probe = json::parse(s, nullptr, false);
    bool ambiguous = s.empty() || !probe.is_discarded() || s == "yes" || s == "no" || s == "on" ||
                     s == "off" || s == "~" || s == "null" || s == "True" || s == "False";
    return emitScalar(e, s, !ambiguous);
  }
  if (j.is_null()) return emitScalar(e, "null", true);
  return emitScalar(e, j.dump(), true);
}

int writeToString(void* data, unsigned char* buffer, size_t size) {
  static_cast<std::string*>(data)->append(reinterpret_cast<char*>(buffer), size);
  return 1;
}

}  // namespace

std::string prettyJson(std::string_view text) {
  json j = json::parse(text.begin(), text.end(), nullptr, false);
  if (j.is_discarded()) return std::string(text);
  return j.dump(2);
}

Result<std::string> jsonToYaml(std::string_view text) {
  json j = json::parse(text.begin(), text.end(), nullptr, false);
  if (j.is_discarded()) return makeError(ErrorCode::kParse, "response is not JSON");
  std::string out;
  yaml_emitter_t e;
  if (yaml_emitter_initialize(&e) != 1) return makeError(ErrorCode::kInternal, "libyaml");
  yaml_emitter_set_output(&e, writeToString, &out);
  yaml_emitter_set_unicode(&e, 1);
  yaml_emitter_set_width(&e, 100);
  yaml_event_t ev;
  bool ok = true;
  yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING);
  ok = ok && emit(&e, &ev);
  yaml_document_start_event_initialize(&ev, nullptr, nullptr, nullptr, 1);
  ok = ok && emit(&e, &ev);
  ok = ok && emitNode(&e, j);
  yaml_document_end_event_initialize(&ev, 1);
  ok = ok && emit(&e, &ev);
  yaml_stream_end_event_initialize(&ev);
  ok = ok && emit(&e, &ev);
  yaml_emitter_delete(&e);
  if (!ok) return makeError(ErrorCode::kInternal, "libyaml could not emit the document");
  return out;
}

std::string paint(const std::string& text, Colour colour, bool terminal) {
  if (!terminal || colour == Colour::kNone) return text;
  const char* code = colour == Colour::kGreen    ? "32"
                     : colour == Colour::kYellow ? "33"
                     : colour == Colour::kRed    ? "31"
                     : colour == Colour::kBlue   ? "34"
                                                 : "90";
  return std::string("\033[") + code + "m" + text + "\033[0m";
}

std::string formatAge(int64_t nowMs, int64_t thenMs) {
  int64_t s = std::max<int64_t>(0, (nowMs - thenMs) / 1000);
  if (s < 120) return std::to_string(s) + "s";
  if (s < 7200) return std::to_string(s / 60) + "m";
  if (s < 172800) return std::to_string(s / 3600) + "h";
  return std::to_string(s / 86400) + "d";
}

}  // namespace ramp::cli
