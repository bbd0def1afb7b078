#include "cli/log_lines.h"

#include <vector>

namespace ramp::cli {

std::string LogLines::feed(std::string_view text) {
  std::string out;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string_view::npos) {
      partial_.append(text.substr(start));
      break;
    }
    out += prefix_;
    out += partial_;
    out.append(text.substr(start, nl - start + 1));
    partial_.clear();
    start = nl + 1;
  }
  return out;
}

std::string LogLines::flush() {
  if (partial_.empty()) return "";
  std::string out = prefix_ + partial_ + "\n";
  partial_.clear();
  return out;
}

std::string lastLines(std::string_view text, size_t n, bool atStart) {
  if (n == 0 || text.empty()) return "";
  // Line starts, skipping a first line that may be cut (when more than it is there).
  std::vector<size_t> starts;
  size_t first = 0;
  if (!atStart) {
    size_t nl = text.find('\n');
    if (nl != std::string_view::npos && nl + 1 < text.size()) first = nl + 1;
  }
  for (size_t i = first; i < text.size();) {
    starts.push_back(i);
    size_t nl = text.find('\n', i);
    if (nl == std::string_view::npos) break;
    i = nl + 1;
  }
  size_t from = starts.size() > n ? starts[starts.size() - n] : first;
  return std::string(text.substr(from));
}

}  // namespace ramp::cli
