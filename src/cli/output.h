#pragma once

// Output helpers shared by the read verbs: -o json|yaml rendering of API JSON, colour that is
// used only on a terminal, and in-place redraw for watch views.
//
// Thread safety: pure functions.

#include <string>
#include <string_view>

#include "ramp/error.h"

namespace ramp::cli {

// Pretty JSON (2-space indent) of `json`; the text unchanged when it is not JSON.
std::string prettyJson(std::string_view json);

// YAML (block style, emitted by libyaml) of a JSON text. Errors: kParse when `json` is not JSON.
Result<std::string> jsonToYaml(std::string_view json);

enum class Colour { kNone, kGreen, kYellow, kRed, kBlue, kGrey };

// `text` wrapped in the ANSI colour when `terminal`, else unchanged.
std::string paint(const std::string& text, Colour colour, bool terminal);

// Clear-screen-and-home sequence written before each redraw of a watch view on a terminal.
inline constexpr std::string_view kRedraw = "\033[H\033[2J";

// "3m", "2h", "5d" — the age of `then` relative to `now` in milliseconds since the epoch.
std::string formatAge(int64_t nowMs, int64_t thenMs);

}  // namespace ramp::cli
