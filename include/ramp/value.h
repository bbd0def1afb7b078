#pragma once

// Value: a dynamically typed value — nil, bool, int, float, string, list or map — as produced
// by metric providers (a Prometheus vector is a list of floats, a web response a JSON value)
// and consumed by the condition language (src/expr).
//
// Lists and maps are immutable and shared: copying a Value is cheap (one reference count).
// Thread safety: a Value may be read from several threads at once.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace ramp {

class Value {
 public:
  using List = std::vector<Value>;
  using Map = std::map<std::string, Value>;
  enum class Kind { kNil, kBool, kInt, kFloat, kString, kList, kMap };

  Value() = default;  // nil
  static Value nil() { return Value(); }
  static Value boolean(bool b) { return Value(Storage(b)); }
  static Value integer(int64_t i) { return Value(Storage(i)); }
  static Value floating(double d) { return Value(Storage(d)); }
  static Value string(std::string s) { return Value(Storage(std::move(s))); }
  static Value list(List l) { return Value(Storage(std::make_shared<const List>(std::move(l)))); }
  static Value map(Map m) { return Value(Storage(std::make_shared<const Map>(std::move(m)))); }

  Kind kind() const { return static_cast<Kind>(v_.index()); }
  bool isNil() const { return kind() == Kind::kNil; }
  bool isBool() const { return kind() == Kind::kBool; }
  bool isInt() const { return kind() == Kind::kInt; }
  bool isFloat() const { return kind() == Kind::kFloat; }
  bool isNumber() const { return isInt() || isFloat(); }
  bool isString() const { return kind() == Kind::kString; }
  bool isList() const { return kind() == Kind::kList; }
  bool isMap() const { return kind() == Kind::kMap; }

  // REQUIRES: the matching kind.
  bool asBool() const { return std::get<bool>(v_); }
  int64_t asInt() const { return std::get<int64_t>(v_); }
  double asFloat() const { return std::get<double>(v_); }
  const std::string& asString() const { return std::get<std::string>(v_); }
  const List& asList() const { return *std::get<std::shared_ptr<const List>>(v_); }
  const Map& asMap() const { return *std::get<std::shared_ptr<const Map>>(v_); }
  // REQUIRES: isNumber().
  double toDouble() const { return isInt() ? static_cast<double>(asInt()) : asFloat(); }

  // Deep structural equality; an int and a float are different kinds here (the condition
  // language has its own numeric comparison rules).
  friend bool operator==(const Value& a, const Value& b) {
    if (a.kind() != b.kind()) return false;
    switch (a.kind()) {
      case Kind::kList: return a.asList() == b.asList();
      case Kind::kMap: return a.asMap() == b.asMap();
      default: return a.v_ == b.v_;
    }
  }

 private:
  using Storage = std::variant<std::monostate, bool, int64_t, double, std::string,
                               std::shared_ptr<const List>, std::shared_ptr<const Map>>;
  explicit Value(Storage v) : v_(std::move(v)) {}
  Storage v_;
};

// Formats a value the way Argo shows a measurement's value: floats in Go's %v form (shortest
// round-trip), lists as "[a,b]", maps as "map[k:v]", strings unquoted, nil as "<nil>".
// Defined in src/common/value.cc.
std::string formatValue(const Value& v);

}  // namespace ramp
