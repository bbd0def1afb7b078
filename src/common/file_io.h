#pragma once

// Whole-file reads and atomic whole-file writes, for the files ramp renders for other programs
// (the nginx router's include, the HAProxy router's backend file): a reader of the file (nginx
// -t, HAProxy at start) sees the old content or the new one, never half of it.
//
// Thread safety: the functions are thread-safe; two writers of one path race (the last rename
// wins), so each path has one writer.

#include <optional>
#include <string>
#include <string_view>

#include "ramp/error.h"

namespace ramp {

// Returns the file's content, or nullopt if it does not exist. kUnavailable naming the path on
// any other failure.
Result<std::optional<std::string>> readFileIfExists(const std::string& path);

// Writes `content` to a temporary file beside `path` (same directory, so the rename is atomic),
// syncs it and renames it over `path`. kUnavailable naming the file and the reason on failure;
// the temporary file is removed then.
Status writeFileAtomically(const std::string& path, std::string_view content);

}  // namespace ramp
