#include "spec/kinds.h"

#include <cctype>

namespace ramp::spec {

std::optional<Kind> kindNamed(std::string_view name) {
  for (const KindInfo& k : kKinds) {
    if (name == k.name) return k.kind;
  }
  return std::nullopt;
}

std::string kindChoices(std::string_view separator, bool plural, bool shortNames) {
  std::string out, shorts;
  for (const KindInfo& k : kKinds) {
    if (!out.empty()) {
      out += separator;
      shorts += ", ";
    }
    std::string name = plural ? k.plural : k.name;
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out += name;
    shorts += k.shortName;
  }
  return shortNames ? out + " (or " + shorts + ")" : out;
}

}  // namespace ramp::spec
