#include "spec/node.h"
#include "spec/tree.h"

#include <yaml.h>

#include <charconv>
#include <cmath>
#include <exception>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <unordered_map>

namespace ramp::spec::internal {
namespace {

using Type = Node::Type;

struct Budget {
  const DecodeLimits& limits;
  size_t nodes = 0;
  std::string error;  // set when a limit is exceeded
};

bool isDigits(std::string_view s, bool hex = false) {
  if (s.empty()) return false;
  for (char c : s) {
    bool ok = (c >= '0' && c <= '9') || (hex && ((c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')));
    if (!ok) return false;
  }
  return true;
}

// Resolves a plain (unquoted) scalar with the YAML 1.2 core schema.
void resolvePlain(const std::string& s, Node& n) {
  n.text = s;
  if (s == "true" || s == "True" || s == "TRUE") {
    n.type = Type::kBool;
    n.boolean = true;
    return;
  }
  if (s == "false" || s == "False" || s == "FALSE") {
    n.type = Type::kBool;
    n.boolean = false;
    return;
  }
  if (s == "~" || s == "null" || s == "Null" || s == "NULL" || s.empty()) {
    n.type = Type::kNull;
    return;
  }
  std::string_view v = s;
  bool negative = false;
  std::string_view body = v;
  if (!body.empty() && (body[0] == '-' || body[0] == '+')) {
    negative = body[0] == '-';
    body.remove_prefix(1);
  }
  int base = 10;
  std::string_view digits = body;
  if (body.size() > 2 && body[0] == '0' && (body[1] == 'x' || body[1] == 'o')) {
    base = body[1] == 'x' ? 16 : 8;
    digits = body.substr(2);
    if (v[0] == '-' || v[0] == '+') digits = {};  // core schema: no sign on 0x / 0o
  }
  if (isDigits(digits, base == 16) &&
      (base != 8 || digits.find_first_not_of("01234567") == std::string_view::npos)) {
    uint64_t u = 0;
    auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), u, base);
    if (ec == std::errc() && p == digits.data() + digits.size()) {
      if (!negative && u <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        n.type = Type::kInt;
        n.integer = static_cast<int64_t>(u);
        return;
      }
      if (negative && u <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) + 1) {
        n.type = Type::kInt;
        n.integer = static_cast<int64_t>(0 - u);
        return;
      }
    }
    // Too large for int64: a float, as YAML 1.2 parsers do.
  }
  if (body == ".inf" || body == ".Inf" || body == ".INF") {
    n.type = Type::kFloat;
    n.number = negative ? -std::numeric_limits<double>::infinity()
                        : std::numeric_limits<double>::infinity();
    return;
  }
  if (v == ".nan" || v == ".NaN" || v == ".NAN") {
    n.type = Type::kFloat;
    n.number = std::numeric_limits<double>::quiet_NaN();
    return;
  }
  // [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
  {
    size_t i = 0;
    std::string_view b = body;
    size_t intDigits = 0;
    while (i < b.size() && b[i] >= '0' && b[i] <= '9') ++i, ++intDigits;
    size_t fracDigits = 0;
    bool dot = false;
    if (i < b.size() && b[i] == '.') {
      dot = true;
      ++i;
      while (i < b.size() && b[i] >= '0' && b[i] <= '9') ++i, ++fracDigits;
    }
    bool ok = intDigits > 0 || (dot && fracDigits > 0);
    if (ok && i < b.size() && (b[i] == 'e' || b[i] == 'E')) {
      ++i;
      if (i < b.size() && (b[i] == '+' || b[i] == '-')) ++i;
      size_t expDigits = 0;
      while (i < b.size() && b[i] >= '0' && b[i] <= '9') ++i, ++expDigits;
      ok = expDigits > 0;
    }
    if (ok && i == b.size()) {
      double d = 0;
      auto [p, ec] = std::from_chars(v.data() + (v[0] == '+' ? 1 : 0), v.data() + v.size(), d);
      if (ec == std::errc() || ec == std::errc::result_out_of_range) {
        n.type = Type::kFloat;
        n.number = d;
        return;
      }
    }
  }
  n.type = Type::kString;
}

bool charge(Budget& budget, int depth) {
  if (!budget.error.empty()) return false;
  if (depth > budget.limits.maxDepth) {
    budget.error = "nesting deeper than " + std::to_string(budget.limits.maxDepth) + " levels";
    return false;
  }
  if (++budget.nodes > budget.limits.maxNodes) {
    budget.error = "more than " + std::to_string(budget.limits.maxNodes) +
                   " nodes after expanding aliases (an alias bomb?)";
    return false;
  }
  return true;
}

Diagnostic fatal(std::string_view file, int32_t line, int32_t column, std::string message) {
  Diagnostic d;
  d.file = std::string(file);
  d.line = line;
  d.column = column;
  d.message = std::move(message);
  return d;
}

// Rejects input that is plainly not text: NUL bytes or invalid UTF-8.
bool checkText(std::string_view text, std::string_view file, LoadOutput& out) {
  int32_t line = 1, column = 1;
  size_t i = 0;
  while (i < text.size()) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    size_t len = 1;
    bool ok = true;
    if (c == 0) {
      ok = false;
    } else if (c < 0x80) {
      len = 1;
    } else if ((c >> 5) == 0x6) {
      len = 2;
      ok = c >= 0xC2;
    } else if ((c >> 4) == 0xE) {
      len = 3;
    } else if ((c >> 3) == 0x1E && c <= 0xF4) {
      len = 4;
    } else {
      ok = false;
    }
    if (ok && i + len > text.size()) ok = false;
    for (size_t k = 1; ok && k < len; ++k) {
      ok = (static_cast<unsigned char>(text[i + k]) >> 6) == 0x2;
    }
    if (!ok) {
      out.failed = true;
      out.diagnostics.push_back(fatal(
          file, line, column,
          c == 0 ? "not a text file: contains a NUL byte" : "not a text file: invalid UTF-8"));
      return false;
    }
    if (c == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
    i += len;
  }
  return true;
}

bool checkSize(std::string_view text, std::string_view file, const DecodeLimits& limits,
               LoadOutput& out) {
  if (text.size() > limits.maxBytes) {
    out.failed = true;
    out.diagnostics.push_back(fatal(file, 0, 0,
                                    "input is " + std::to_string(text.size()) +
                                        " bytes, more than the limit of " +
                                        std::to_string(limits.maxBytes) + " bytes"));
    return false;
  }
  return true;
}

// The YAML graph as libyaml's events describe it, before typing and alias expansion. Nodes live
// in one vector and refer to each other by index, so an alias is just a second reference to its
// anchored node (as yaml-cpp did) and freeing a deep tree needs no recursion.
struct RawNode {
  enum class Kind : uint8_t { kNull, kScalar, kSeq, kMap };
  Kind kind = Kind::kNull;
  bool asString = false;  // scalar: a string as is (quoted, block, or tagged !, !!str, !!binary)
  int32_t line = 0;       // 1-based
  int32_t column = 0;
  std::string text;
  std::vector<uint32_t> children;  // kSeq: items; kMap: key, value, key, value...
};

struct RawGraph {
  std::vector<RawNode> nodes;
  std::vector<uint32_t> roots;  // one per document
};

// Owns a libyaml parser; frees it on every path.
class YamlParser {
 public:
  YamlParser() { ok_ = yaml_parser_initialize(&parser_) != 0; }
  ~YamlParser() {
    if (ok_) yaml_parser_delete(&parser_);
  }
  YamlParser(const YamlParser&) = delete;
  YamlParser& operator=(const YamlParser&) = delete;
  bool ok() const { return ok_; }
  yaml_parser_t* get() { return &parser_; }

 private:
  yaml_parser_t parser_{};
  bool ok_ = false;
};

// Owns one libyaml event.
class YamlEvent {
 public:
  YamlEvent() = default;
  ~YamlEvent() { reset(); }
  YamlEvent(const YamlEvent&) = delete;
  YamlEvent& operator=(const YamlEvent&) = delete;
  yaml_event_t* get() { return &event_; }
  void reset() {
    if (filled_) yaml_event_delete(&event_);
    filled_ = false;
  }
  void setFilled() { filled_ = true; }

 private:
  yaml_event_t event_{};
  bool filled_ = false;
};

bool isNullString(std::string_view s) {
  return s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL";
}

std::string syntaxMessage(const yaml_parser_t& p) {
  std::string message = "not valid YAML: ";
  if (p.error == YAML_MEMORY_ERROR) return message + "out of memory";
  message += p.problem != nullptr ? p.problem : "syntax error";
  if (p.context != nullptr) {
    message += " (" + std::string(p.context) + " started at line " +
               std::to_string(p.context_mark.line + 1) + ", column " +
               std::to_string(p.context_mark.column + 1) + ")";
  }
  return message;
}

// Reads every document of `text` into `graph`. Returns false and fills `out` on a syntax error,
// an undefined alias, or a collection nested deeper than maxDepth (rejected as soon as it opens,
// so input of any depth costs bounded time and memory).
bool readYaml(std::string_view text, std::string_view file, const DecodeLimits& limits,
              RawGraph& graph, LoadOutput& out) {
  YamlParser parser;
  if (!parser.ok()) {
    out.failed = true;
    out.diagnostics.push_back(fatal(file, 0, 0, "not valid YAML: out of memory"));
    return false;
  }
  yaml_parser_set_input_string(parser.get(), reinterpret_cast<const unsigned char*>(text.data()),
                               text.size());
  const size_t keepDepth = static_cast<size_t>(limits.maxDepth < 0 ? 0 : limits.maxDepth) + 1;
  std::vector<uint32_t> open;   // collections being read, outermost first
  std::vector<bool> openBlock;  // whether each is block style (not flow)
  // An empty value in a block collection (`key:` with nothing after it) takes the position of
  // whatever follows it, as yaml-cpp placed it; libyaml places it after the colon.
  std::optional<uint32_t> emptyValue;
  std::unordered_map<std::string, uint32_t> anchors;  // of the current document
  YamlEvent event;
  for (;;) {
    event.reset();
    if (yaml_parser_parse(parser.get(), event.get()) == 0) {
      const yaml_parser_t& p = *parser.get();
      out.failed = true;
      int32_t line = static_cast<int32_t>(p.problem_mark.line) + 1;
      int32_t column = static_cast<int32_t>(p.problem_mark.column) + 1;
      if (p.error == YAML_READER_ERROR) {  // placed by byte offset, not by mark
        line = 1;
        column = 1;
        for (size_t k = 0; k < p.problem_offset && k < text.size(); ++k) {
          if (text[k] == '\n') {
            ++line;
            column = 1;
          } else if ((static_cast<unsigned char>(text[k]) & 0xC0) != 0x80) {
            ++column;
          }
        }
      }
      out.diagnostics.push_back(fatal(file, line, column, syntaxMessage(p)));
      return false;
    }
    event.setFilled();
    const yaml_event_t& e = *event.get();
    if (emptyValue) {
      graph.nodes[*emptyValue].line = static_cast<int32_t>(e.start_mark.line) + 1;
      graph.nodes[*emptyValue].column = static_cast<int32_t>(e.start_mark.column) + 1;
      emptyValue.reset();
    }
    if (e.type == YAML_STREAM_END_EVENT) return true;
    if (e.type == YAML_DOCUMENT_START_EVENT) {
      anchors.clear();
      continue;
    }
    bool isStart = e.type == YAML_SEQUENCE_START_EVENT || e.type == YAML_MAPPING_START_EVENT;
    bool isEnd = e.type == YAML_SEQUENCE_END_EVENT || e.type == YAML_MAPPING_END_EVENT;
    bool isNode = isStart || e.type == YAML_SCALAR_EVENT || e.type == YAML_ALIAS_EVENT;
    if (isEnd) {
      open.pop_back();
      openBlock.pop_back();
      continue;
    }
    if (!isNode) continue;  // document end, stream start
    uint32_t index = 0;
    if (e.type == YAML_ALIAS_EVENT) {
      auto it = anchors.find(reinterpret_cast<const char*>(e.data.alias.anchor));
      if (it == anchors.end()) {
        out.failed = true;
        out.diagnostics.push_back(
            fatal(file, static_cast<int32_t>(e.start_mark.line) + 1,
                  static_cast<int32_t>(e.start_mark.column) + 1,
                  "not valid YAML: alias *" +
                      std::string(reinterpret_cast<const char*>(e.data.alias.anchor)) +
                      " refers to no anchor defined before it"));
        return false;
      }
      index = it->second;  // the anchored node itself, marks included (as yaml-cpp)
    } else {
      index = static_cast<uint32_t>(graph.nodes.size());
      graph.nodes.emplace_back();
      RawNode& n = graph.nodes.back();
      n.line = static_cast<int32_t>(e.start_mark.line) + 1;
      n.column = static_cast<int32_t>(e.start_mark.column) + 1;
      const yaml_char_t* anchor = nullptr;
      if (e.type == YAML_SCALAR_EVENT) {
        anchor = e.data.scalar.anchor;
        std::string_view value(reinterpret_cast<const char*>(e.data.scalar.value),
                               e.data.scalar.length);
        const char* tag = reinterpret_cast<const char*>(e.data.scalar.tag);
        if (tag == nullptr) {
          bool plain = e.data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
          n.kind = plain && isNullString(value) ? RawNode::Kind::kNull : RawNode::Kind::kScalar;
          n.asString = !plain;
        } else {
          std::string_view t = tag;
          n.kind = RawNode::Kind::kScalar;
          n.asString = t == "!" || t == "tag:yaml.org,2002:str" || t == "!!str" ||
                       t == "tag:yaml.org,2002:binary" || t == "!!binary";
        }
        if (n.kind == RawNode::Kind::kScalar) n.text = value;
        if (tag == nullptr && anchor == nullptr && value.empty() &&
            e.data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
            e.start_mark.index == e.end_mark.index && !openBlock.empty() && openBlock.back()) {
          emptyValue = index;
        }
      } else if (open.size() >= keepDepth) {
        // Stop here: past maxDepth the input is rejected anyway, and libyaml's scanner does
        // work proportional to the flow depth for every token.
        const RawNode& root = graph.nodes[open.front()];
        out.failed = true;
        out.diagnostics.push_back(fatal(
            file, root.line, root.column,
            "input rejected: nesting deeper than " + std::to_string(limits.maxDepth) + " levels"));
        return false;
      } else {
        n.kind = e.type == YAML_SEQUENCE_START_EVENT ? RawNode::Kind::kSeq : RawNode::Kind::kMap;
        anchor = e.type == YAML_SEQUENCE_START_EVENT ? e.data.sequence_start.anchor
                                                     : e.data.mapping_start.anchor;
      }
      // Registered when the node starts, so an alias inside it refers to it (a cycle, which
      // conversion stops at maxDepth), as yaml-cpp did.
      if (anchor != nullptr) anchors[reinterpret_cast<const char*>(anchor)] = index;
    }
    if (open.empty()) {
      graph.roots.push_back(index);
    } else {
      graph.nodes[open.back()].children.push_back(index);
    }
    if (isStart) {
      open.push_back(index);
      openBlock.push_back(e.type == YAML_SEQUENCE_START_EVENT
                              ? e.data.sequence_start.style == YAML_BLOCK_SEQUENCE_STYLE
                              : e.data.mapping_start.style == YAML_BLOCK_MAPPING_STYLE);
    }
  }
}

bool convertYaml(const RawGraph& graph, uint32_t index, Node& out, Budget& budget, int depth) {
  if (!charge(budget, depth)) return false;
  const RawNode& y = graph.nodes[index];
  out.line = y.line;
  out.column = y.column;
  switch (y.kind) {
    case RawNode::Kind::kNull: out.type = Type::kNull; return true;
    case RawNode::Kind::kScalar:
      if (y.asString) {
        out.type = Type::kString;
        out.text = y.text;
      } else {
        resolvePlain(y.text, out);
      }
      return true;
    case RawNode::Kind::kSeq: {
      out.type = Type::kSeq;
      out.items.reserve(y.children.size() < 4096 ? y.children.size() : 4096);
      for (uint32_t item : y.children) {
        out.items.emplace_back();
        if (!convertYaml(graph, item, out.items.back(), budget, depth + 1)) return false;
      }
      return true;
    }
    case RawNode::Kind::kMap: {
      out.type = Type::kMap;
      for (size_t i = 0; i + 1 < y.children.size(); i += 2) {
        const RawNode& key = graph.nodes[y.children[i]];
        MapEntry entry;
        entry.line = key.line;
        entry.column = key.column;
        if (!charge(budget, depth + 1)) return false;
        if (key.kind == RawNode::Kind::kScalar) {
          entry.key = key.text;
        } else if (key.kind == RawNode::Kind::kNull) {
          entry.key = "null";
        } else {
          entry.key = "<non-scalar key>";
        }
        if (!convertYaml(graph, y.children[i + 1], entry.value, budget, depth + 1)) return false;
        out.entries.push_back(std::move(entry));
      }
      return true;
    }
  }
  return true;
}

}  // namespace

const char* typeName(Node::Type type) {
  switch (type) {
    case Type::kNull: return "null";
    case Type::kBool: return "boolean";
    case Type::kInt: return "integer";
    case Type::kFloat: return "number";
    case Type::kString: return "string";
    case Type::kSeq: return "list";
    case Type::kMap: return "object";
  }
  return "value";
}

LoadOutput loadYaml(std::string_view text, std::string_view file, const DecodeLimits& limits) {
  LoadOutput out;
  if (!checkSize(text, file, limits, out) || !checkText(text, file, out)) return out;
  try {
    RawGraph graph;
    if (!readYaml(text, file, limits, graph, out)) return out;
    Budget budget{limits, 0, {}};
    for (uint32_t root : graph.roots) {
      Node n;
      if (!convertYaml(graph, root, n, budget, 0)) {
        out.failed = true;
        out.documents.clear();
        const RawNode& r = graph.nodes[root];
        out.diagnostics.push_back(fatal(file, r.line, r.column, "input rejected: " + budget.error));
        return out;
      }
      out.documents.push_back(std::move(n));
    }
  } catch (const std::exception& e) {  // std::bad_alloc
    out = LoadOutput{};
    out.failed = true;
    out.diagnostics.push_back(fatal(file, 0, 0, std::string("not valid YAML: ") + e.what()));
  }
  return out;
}

namespace {

// Builds Nodes straight from nlohmann's SAX events: no intermediate json DOM (the controller
// decodes every stored object it reads, so this is its hot path), keys in document order (a
// repeated key is reported by the decoder, as in YAML), and the limits checked as the parser
// goes, so a too-deep or too-large input stops at once.
class NodeBuilder {
 public:
  using number_integer_t = nlohmann::json::number_integer_t;
  using number_unsigned_t = nlohmann::json::number_unsigned_t;
  using number_float_t = nlohmann::json::number_float_t;
  using string_t = nlohmann::json::string_t;
  using binary_t = nlohmann::json::binary_t;

  explicit NodeBuilder(const DecodeLimits& limits) : budget_{limits, 0, {}} {}

  bool null() { return scalar() != nullptr; }
  bool boolean(bool value) {
    Node* n = scalar();
    if (n == nullptr) return false;
    n->type = Type::kBool;
    n->boolean = value;
    n->text = value ? "true" : "false";
    return true;
  }
  bool number_integer(number_integer_t value) {
    Node* n = scalar();
    if (n == nullptr) return false;
    n->type = Type::kInt;
    n->integer = value;
    n->text = std::to_string(value);
    return true;
  }
  bool number_unsigned(number_unsigned_t value) {
    Node* n = scalar();
    if (n == nullptr) return false;
    if (value <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      n->type = Type::kInt;
      n->integer = static_cast<int64_t>(value);
    } else {
      n->type = Type::kFloat;
      n->number = static_cast<double>(value);
    }
    n->text = std::to_string(value);
    return true;
  }
  bool number_float(number_float_t value, const string_t& text) {
    Node* n = scalar();
    if (n == nullptr) return false;
    n->type = Type::kFloat;
    n->number = value;
    n->text = text;
    return true;
  }
  bool string(string_t& value) {
    Node* n = scalar();
    if (n == nullptr) return false;
    n->type = Type::kString;
    n->text = std::move(value);
    return true;
  }
  bool binary(binary_t&) { return null(); }  // not produced by the JSON parser

  bool start_object(std::size_t) { return open(Type::kMap); }
  bool key(string_t& key) {
    Node& map = *stack_.back();
    map.entries.emplace_back();
    map.entries.back().key = std::move(key);
    return true;
  }
  bool end_object() {
    stack_.pop_back();
    return true;
  }
  bool start_array(std::size_t) { return open(Type::kSeq); }
  bool end_array() {
    stack_.pop_back();
    return true;
  }

  bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception& e) {
    errorByte_ = position;
    syntaxError_ = e.what();
    return false;
  }

  Node& root() { return root_; }
  const std::string& limitError() const { return budget_.error; }
  const std::optional<std::string>& syntaxError() const { return syntaxError_; }
  size_t errorByte() const { return errorByte_; }

 private:
  // The node the next value fills: the root, the next item of the open sequence, or the value
  // of the key just read. Charges it against the limits (nullptr when one is exceeded).
  Node* next(int depth) {
    if (!charge(budget_, depth)) return nullptr;
    if (stack_.empty()) return &root_;
    Node& parent = *stack_.back();
    if (parent.type == Type::kSeq) {
      parent.items.emplace_back();
      return &parent.items.back();
    }
    return &parent.entries.back().value;
  }
  Node* scalar() { return next(static_cast<int>(stack_.size())); }
  bool open(Type type) {
    // A container at nesting d holds values at d + 1; the limit counts open brackets.
    Node* n = next(static_cast<int>(stack_.size()) + 1);
    if (n == nullptr) return false;
    n->type = type;
    stack_.push_back(n);
    return true;
  }

  Budget budget_;
  Node root_;
  // The open containers, innermost last. Pointers stay valid: only the innermost container's
  // children grow while it is open.
  std::vector<Node*> stack_;
  std::optional<std::string> syntaxError_;
  size_t errorByte_ = 0;
};

}  // namespace

LoadOutput loadJson(std::string_view text, std::string_view file, const DecodeLimits& limits) {
  LoadOutput out;
  if (!checkSize(text, file, limits, out)) return out;
  NodeBuilder builder(limits);
  bool ok = false;
  try {
    ok = nlohmann::json::sax_parse(text.begin(), text.end(), &builder);
  } catch (const std::exception& e) {  // std::bad_alloc
    out.failed = true;
    out.diagnostics.push_back(fatal(file, 0, 0, std::string("not valid JSON: ") + e.what()));
    return out;
  }
  if (ok) {
    out.documents.push_back(std::move(builder.root()));
    return out;
  }
  out.failed = true;
  if (!builder.syntaxError()) {
    out.diagnostics.push_back(fatal(file, 0, 0, "input rejected: " + builder.limitError()));
    return out;
  }
  // Byte offset -> line/column.
  int32_t line = 1, column = 1;
  const size_t errorByte = builder.errorByte();
  const size_t upto = errorByte > 0 ? std::min(errorByte - 1, text.size()) : 0;
  for (size_t i = 0; i < upto; ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  const std::string& what = *builder.syntaxError();
  const size_t pos = what.find("parse error");
  out.diagnostics.push_back(
      fatal(file, line, column,
            "not valid JSON: " + (pos == std::string::npos ? what : what.substr(pos))));
  return out;
}

}  // namespace ramp::spec::internal

namespace ramp::spec {

TreeOutput loadTree(std::string_view text, std::string_view file) {
  return internal::loadYaml(text, file, DecodeLimits{});
}

const TreeEntry* findEntry(const TreeNode& node, std::string_view key) {
  if (node.type != TreeNode::Type::kMap) return nullptr;
  for (const TreeEntry& e : node.entries) {
    if (e.key == key) return &e;
  }
  return nullptr;
}

}  // namespace ramp::spec
