#include "analysis/secret_dir.h"

#include <fstream>
#include <sstream>
#include <system_error>

namespace ramp::analysis {
namespace {

bool safeComponent(std::string_view s) {
  return !s.empty() && s != "." && s != ".." && s.find('/') == std::string_view::npos &&
         s.find('\0') == std::string_view::npos;
}

}  // namespace

Result<std::string> SecretDir::get(std::string_view ns, std::string_view name,
                                   std::string_view key) const {
  for (std::string_view part : {ns, name, key}) {
    if (!safeComponent(part)) {
      return makeError(ErrorCode::kInvalidArgument,
                       "invalid secret reference component \"" + std::string(part) + "\"");
    }
  }
  std::filesystem::path dir = root_ / std::string(ns) / std::string(name);
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    return makeError(ErrorCode::kNotFound, "secrets \"" + std::string(name) + "\" not found");
  }
  std::filesystem::path file = dir / std::string(key);
  if (!std::filesystem::is_regular_file(file, ec)) {
    return makeError(
        ErrorCode::kNotFound,
        "key '" + std::string(key) + "' does not exist in secret '" + std::string(name) + "'");
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    return makeError(ErrorCode::kPermissionDenied, "cannot read key '" + std::string(key) +
                                                       "' of secret '" + std::string(name) + "'");
  }
  std::ostringstream buf;
  buf << in.rdbuf();
  std::string value = buf.str();
  if (!value.empty() && value.back() == '\n') value.pop_back();
  return value;
}

}  // namespace ramp::analysis
