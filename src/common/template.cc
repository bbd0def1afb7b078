#include "common/template.h"

#include <string>

#include "common/strings.h"

namespace ramp {

bool hasPlaceholder(std::string_view text) { return text.find("{{") != std::string_view::npos; }

Result<std::string> expandTemplate(std::string_view text, const TemplateLookup& lookup) {
  std::string out;
  out.reserve(text.size());
  size_t pos = 0;
  while (pos < text.size()) {
    size_t open = text.find("{{", pos);
    if (open == std::string_view::npos) {
      out.append(text.substr(pos));
      break;
    }
    out.append(text.substr(pos, open - pos));
    size_t close = text.find("}}", open + 2);
    if (close == std::string_view::npos) {
      return makeError(ErrorCode::kInvalidArgument,
                       "unterminated \"{{\" in \"" + std::string(text) + "\"");
    }
    std::string_view tag = text.substr(open + 2, close - open - 2);
    std::optional<std::string> value = lookup(trim(tag));
    if (!value) {
      return makeError(ErrorCode::kInvalidArgument,
                       "failed to resolve {{" + std::string(tag) + "}}");
    }
    out.append(*value);
    pos = close + 2;
  }
  return out;
}

}  // namespace ramp
