#include "analysis/providers/web/json_path.h"

#include <cctype>
#include <charconv>

namespace ramp::analysis::providers {
namespace {

using nlohmann::json;

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  std::string_view text_;
  size_t pos_ = 0;

  bool done() const { return pos_ >= text_.size(); }
  char peek(size_t ahead = 0) const {
    return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0';
  }
  void skipSpace() {
    while (!done() && std::isspace(static_cast<unsigned char>(peek()))) ++pos_;
  }
  std::unexpected<Error> error(const std::string& what) const {
    return makeError(ErrorCode::kParse, "jsonPath \"" + std::string(text_) + "\": column " +
                                            std::to_string(pos_ + 1) + ": " + what);
  }
  static bool nameChar(char c) {
    return c != '\0' && c != '.' && c != '[' && c != ']' && c != '{' && c != '}' && c != '\'' &&
           c != '"' && c != '(' && c != ')' && c != ',' &&
           !std::isspace(static_cast<unsigned char>(c));
  }
  std::string name() {
    size_t start = pos_;
    while (nameChar(peek())) ++pos_;
    return std::string(text_.substr(start, pos_ - start));
  }
  Result<std::string> quoted() {
    char quote = peek();
    ++pos_;
    std::string out;
    while (!done() && peek() != quote) {
      if (peek() == '\\' && pos_ + 1 < text_.size()) ++pos_;
      out += peek();
      ++pos_;
    }
    if (done()) return error("unterminated quoted name");
    ++pos_;
    return out;
  }
  Result<std::optional<int64_t>> integer() {
    skipSpace();
    size_t start = pos_;
    if (peek() == '-' || peek() == '+') ++pos_;
    while (std::isdigit(static_cast<unsigned char>(peek()))) ++pos_;
    if (start == pos_) return std::optional<int64_t>();
    std::string_view digits = text_.substr(start, pos_ - start);
    if (digits.front() == '+') digits.remove_prefix(1);
    int64_t v = 0;
    auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
    if (ec != std::errc() || ptr != digits.data() + digits.size()) {
      return error("invalid array index \"" + std::string(digits) + "\"");
    }
    skipSpace();
    return std::optional<int64_t>(v);
  }
};

}  // namespace

Result<JsonPath> JsonPath::parse(std::string_view text) {
  Parser p(text);
  p.skipSpace();
  if (p.peek() != '{') return p.error("expected '{' (a template such as {$.data.value})");
  ++p.pos_;
  p.skipSpace();
  JsonPath path;
  if (p.peek() == '$') ++p.pos_;
  while (true) {
    p.skipSpace();
    char c = p.peek();
    if (c == '}') {
      ++p.pos_;
      break;
    }
    if (c == '\0') return p.error("expected '}'");
    if (c == '.') {
      ++p.pos_;
      if (p.peek() == '.') {
        ++p.pos_;
        if (p.peek() == '*') {
          ++p.pos_;
          path.steps_.push_back(Recursive{""});
          continue;
        }
        std::string n = p.name();
        if (n.empty()) return p.error("expected a field name after '..'");
        path.steps_.push_back(Recursive{n});
        continue;
      }
      if (p.peek() == '*') {
        ++p.pos_;
        path.steps_.push_back(Wildcard{});
        continue;
      }
      if (p.peek() == '}' || p.peek() == '[') continue;  // "{.}" and "$.[0]" as in Kubernetes
      std::string n = p.name();
      if (n.empty()) return p.error("expected a field name after '.'");
      path.steps_.push_back(Field{{n}});
      continue;
    }
    if (c == '[') {
      ++p.pos_;
      p.skipSpace();
      if (p.peek() == '*') {
        ++p.pos_;
        p.skipSpace();
        if (p.peek() != ']') return p.error("expected ']'");
        ++p.pos_;
        path.steps_.push_back(Wildcard{});
        continue;
      }
      if (p.peek() == '?' || p.peek() == '(') {
        return makeError(ErrorCode::kUnsupported, "jsonPath \"" + std::string(text) +
                                                      "\": filter expressions are not "
                                                      "supported");
      }
      if (p.peek() == '\'' || p.peek() == '"') {
        Field field;
        while (true) {
          p.skipSpace();
          if (p.peek() != '\'' && p.peek() != '"') return p.error("expected a quoted name");
          auto n = p.quoted();
          if (!n) return std::unexpected(n.error());
          field.names.push_back(*n);
          p.skipSpace();
          if (p.peek() == ',') {
            ++p.pos_;
            continue;
          }
          if (p.peek() != ']') return p.error("expected ']'");
          ++p.pos_;
          break;
        }
        path.steps_.push_back(field);
        continue;
      }
      auto first = p.integer();
      if (!first) return std::unexpected(first.error());
      if (p.peek() == ':') {
        Slice slice;
        slice.start = *first;
        ++p.pos_;
        auto end = p.integer();
        if (!end) return std::unexpected(end.error());
        slice.end = *end;
        if (p.peek() == ':') {
          ++p.pos_;
          auto step = p.integer();
          if (!step) return std::unexpected(step.error());
          if (*step) slice.step = **step;
          if (slice.step <= 0) return p.error("slice step must be positive");
        }
        if (p.peek() != ']') return p.error("expected ']'");
        ++p.pos_;
        path.steps_.push_back(slice);
        continue;
      }
      if (!*first) return p.error("expected an index, a slice, '*' or a quoted name");
      Index index{{**first}};
      while (p.peek() == ',') {
        ++p.pos_;
        auto next = p.integer();
        if (!next) return std::unexpected(next.error());
        if (!*next) return p.error("expected an index");
        index.indexes.push_back(**next);
      }
      if (p.peek() != ']') return p.error("expected ']'");
      ++p.pos_;
      path.steps_.push_back(index);
      continue;
    }
    return p.error(std::string("unexpected '") + c + "'");
  }
  p.skipSpace();
  if (!p.done()) {
    return makeError(ErrorCode::kUnsupported,
                     "jsonPath \"" + std::string(text) +
                         "\": only one {…} expression with nothing around it is supported");
  }
  return path;
}

namespace {

void collectRecursive(const json* node, const std::string& name, std::vector<const json*>& out) {
  // Iterative pre-order walk: the document may be deeply nested.
  std::vector<const json*> stack{node};
  while (!stack.empty()) {
    const json* cur = stack.back();
    stack.pop_back();
    std::vector<const json*> children;
    if (cur->is_object()) {
      if (name.empty()) {
        for (const auto& [k, v] : cur->items()) out.push_back(&v);
      } else if (auto it = cur->find(name); it != cur->end()) {
        out.push_back(&*it);
      }
      for (const auto& [k, v] : cur->items()) children.push_back(&v);
    } else if (cur->is_array()) {
      if (name.empty()) {
        for (const auto& v : *cur) out.push_back(&v);
      }
      for (const auto& v : *cur) children.push_back(&v);
    }
    for (auto it = children.rbegin(); it != children.rend(); ++it) stack.push_back(*it);
  }
}

}  // namespace

Result<std::vector<const json*>> JsonPath::find(const json& doc) const {
  std::vector<const json*> cur{&doc};
  for (const Step& step : steps_) {
    std::vector<const json*> next;
    if (const auto* field = std::get_if<Field>(&step)) {
      for (const json* v : cur) {
        if (!v->is_object()) continue;
        for (const auto& name : field->names) {
          if (auto it = v->find(name); it != v->end()) next.push_back(&*it);
        }
      }
      if (next.empty()) {
        return makeError(ErrorCode::kNotFound, field->names.front() + " is not found");
      }
    } else if (const auto* index = std::get_if<Index>(&step)) {
      for (const json* v : cur) {
        if (!v->is_array()) {
          return makeError(ErrorCode::kNotFound,
                           v->dump().substr(0, 80) + " is not array or slice");
        }
        auto len = static_cast<int64_t>(v->size());
        for (int64_t i : index->indexes) {
          int64_t k = i < 0 ? i + len : i;
          if (k < 0 || k >= len) {
            return makeError(ErrorCode::kNotFound, "array index out of bounds: index " +
                                                       std::to_string(i) + ", length " +
                                                       std::to_string(len));
          }
          next.push_back(&(*v)[static_cast<size_t>(k)]);
        }
      }
    } else if (const auto* slice = std::get_if<Slice>(&step)) {
      for (const json* v : cur) {
        if (!v->is_array()) {
          return makeError(ErrorCode::kNotFound,
                           v->dump().substr(0, 80) + " is not array or slice");
        }
        auto len = static_cast<int64_t>(v->size());
        auto clamp = [len](int64_t i) {
          if (i < 0) i += len;
          return std::max<int64_t>(0, std::min(i, len));
        };
        int64_t start = slice->start ? clamp(*slice->start) : 0;
        int64_t end = slice->end ? clamp(*slice->end) : len;
        for (int64_t k = start; k < end; k += slice->step) {
          next.push_back(&(*v)[static_cast<size_t>(k)]);
        }
      }
    } else if (std::holds_alternative<Wildcard>(step)) {
      for (const json* v : cur) {
        if (v->is_object() || v->is_array()) {
          for (const auto& child : *v) next.push_back(&child);
        }
      }
    } else if (const auto* rec = std::get_if<Recursive>(&step)) {
      for (const json* v : cur) collectRecursive(v, rec->name, next);
    }
    cur = std::move(next);
  }
  return cur;
}

}  // namespace ramp::analysis::providers
