#include "spec/node.h"

#include <yaml-cpp/yaml.h>

#include <charconv>
#include <cmath>
#include <exception>
#include <limits>
#include <nlohmann/json.hpp>

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

bool convertYaml(const YAML::Node& y, Node& out, Budget& budget, int depth) {
  if (!charge(budget, depth)) return false;
  YAML::Mark mark = y.Mark();
  out.line = mark.line >= 0 ? mark.line + 1 : 0;
  out.column = mark.column >= 0 ? mark.column + 1 : 0;
  switch (y.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null: out.type = Type::kNull; return true;
    case YAML::NodeType::Scalar: {
      const std::string& tag = y.Tag();
      const std::string& s = y.Scalar();
      if (tag == "!" || tag == "tag:yaml.org,2002:str" || tag == "!!str") {
        out.type = Type::kString;
        out.text = s;
      } else if (tag == "tag:yaml.org,2002:binary" || tag == "!!binary") {
        out.type = Type::kString;
        out.text = s;
      } else {
        resolvePlain(s, out);
      }
      return true;
    }
    case YAML::NodeType::Sequence: {
      out.type = Type::kSeq;
      out.items.reserve(y.size() < 4096 ? y.size() : 4096);
      for (YAML::Node item : y) {
        out.items.emplace_back();
        if (!convertYaml(item, out.items.back(), budget, depth + 1)) return false;
      }
      return true;
    }
    case YAML::NodeType::Map: {
      out.type = Type::kMap;
      for (auto it = y.begin(); it != y.end(); ++it) {
        MapEntry entry;
        YAML::Node key = it->first;
        YAML::Node value = it->second;
        YAML::Mark km = key.Mark();
        entry.line = km.line >= 0 ? km.line + 1 : 0;
        entry.column = km.column >= 0 ? km.column + 1 : 0;
        if (!charge(budget, depth + 1)) return false;
        if (key.IsScalar()) {
          entry.key = key.Scalar();
        } else if (key.IsNull()) {
          entry.key = "null";
        } else {
          entry.key = "<non-scalar key>";
        }
        if (!convertYaml(value, entry.value, budget, depth + 1)) return false;
        out.entries.push_back(std::move(entry));
      }
      return true;
    }
  }
  return true;
}

bool convertJson(const nlohmann::json& j, Node& out, Budget& budget, int depth) {
  if (!charge(budget, depth)) return false;
  switch (j.type()) {
    case nlohmann::json::value_t::null:
    case nlohmann::json::value_t::discarded: out.type = Type::kNull; return true;
    case nlohmann::json::value_t::boolean:
      out.type = Type::kBool;
      out.boolean = j.get<bool>();
      out.text = out.boolean ? "true" : "false";
      return true;
    case nlohmann::json::value_t::number_integer:
      out.type = Type::kInt;
      out.integer = j.get<int64_t>();
      out.text = std::to_string(out.integer);
      return true;
    case nlohmann::json::value_t::number_unsigned: {
      uint64_t u = j.get<uint64_t>();
      if (u <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        out.type = Type::kInt;
        out.integer = static_cast<int64_t>(u);
      } else {
        out.type = Type::kFloat;
        out.number = static_cast<double>(u);
      }
      out.text = std::to_string(u);
      return true;
    }
    case nlohmann::json::value_t::number_float:
      out.type = Type::kFloat;
      out.number = j.get<double>();
      out.text = j.dump();
      return true;
    case nlohmann::json::value_t::string:
      out.type = Type::kString;
      out.text = j.get<std::string>();
      return true;
    case nlohmann::json::value_t::array:
      out.type = Type::kSeq;
      for (const auto& item : j) {
        out.items.emplace_back();
        if (!convertJson(item, out.items.back(), budget, depth + 1)) return false;
      }
      return true;
    case nlohmann::json::value_t::object:
      out.type = Type::kMap;
      for (auto it = j.begin(); it != j.end(); ++it) {
        MapEntry entry;
        entry.key = it.key();
        if (!convertJson(it.value(), entry.value, budget, depth + 1)) return false;
        out.entries.push_back(std::move(entry));
      }
      return true;
    case nlohmann::json::value_t::binary: out.type = Type::kNull; return true;
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
  std::vector<YAML::Node> docs;
  try {
    docs = YAML::LoadAll(std::string(text));
  } catch (const YAML::Exception& e) {
    out.failed = true;
    int32_t line = e.mark.line >= 0 ? e.mark.line + 1 : 0;
    int32_t column = e.mark.column >= 0 ? e.mark.column + 1 : 0;
    out.diagnostics.push_back(fatal(file, line, column, "not valid YAML: " + e.msg));
    return out;
  } catch (const std::exception& e) {
    out.failed = true;
    out.diagnostics.push_back(fatal(file, 0, 0, std::string("not valid YAML: ") + e.what()));
    return out;
  }
  Budget budget{limits, 0, {}};
  for (const YAML::Node& doc : docs) {
    Node n;
    bool ok = false;
    try {
      ok = convertYaml(doc, n, budget, 0);
    } catch (const std::exception& e) {
      budget.error = std::string("not valid YAML: ") + e.what();
    }
    if (!ok) {
      out.failed = true;
      out.documents.clear();
      YAML::Mark m = doc.Mark();
      out.diagnostics.push_back(fatal(file, m.line >= 0 ? m.line + 1 : 0,
                                      m.column >= 0 ? m.column + 1 : 0,
                                      "input rejected: " + budget.error));
      return out;
    }
    out.documents.push_back(std::move(n));
  }
  return out;
}

LoadOutput loadJson(std::string_view text, std::string_view file, const DecodeLimits& limits) {
  LoadOutput out;
  if (!checkSize(text, file, limits, out)) return out;
  nlohmann::json j;
  struct TooDeep {};
  try {
    int maxDepth = limits.maxDepth;
    j = nlohmann::json::parse(
        text.begin(), text.end(),
        [maxDepth](int depth, nlohmann::json::parse_event_t, nlohmann::json&) {
          if (depth > maxDepth) throw TooDeep{};
          return true;
        });
  } catch (const TooDeep&) {
    out.failed = true;
    out.diagnostics.push_back(fatal(
        file, 0, 0,
        "input rejected: nesting deeper than " + std::to_string(limits.maxDepth) + " levels"));
    return out;
  } catch (const nlohmann::json::parse_error& e) {
    out.failed = true;
    // Byte offset -> line/column.
    int32_t line = 1, column = 1;
    size_t upto = e.byte > 0 ? std::min(e.byte - 1, text.size()) : 0;
    for (size_t i = 0; i < upto; ++i) {
      if (text[i] == '\n') {
        ++line;
        column = 1;
      } else {
        ++column;
      }
    }
    std::string what = e.what();
    size_t pos = what.find("parse error");
    out.diagnostics.push_back(
        fatal(file, line, column,
              "not valid JSON: " + (pos == std::string::npos ? what : what.substr(pos))));
    return out;
  } catch (const std::exception& e) {
    out.failed = true;
    out.diagnostics.push_back(fatal(file, 0, 0, std::string("not valid JSON: ") + e.what()));
    return out;
  }
  Budget budget{limits, 0, {}};
  Node n;
  if (!convertJson(j, n, budget, 0)) {
    out.failed = true;
    out.diagnostics.push_back(fatal(file, 0, 0, "input rejected: " + budget.error));
    return out;
  }
  out.documents.push_back(std::move(n));
  return out;
}

}  // namespace ramp::spec::internal
