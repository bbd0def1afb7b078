#pragma once

// JsonPath: the Kubernetes JSONPath template syntax (k8s.io/client-go/util/jsonpath) as Argo's
// web provider uses it to pick a value out of a JSON response: one `{…}` expression such as
// `{$}`, `{$.data.ok}`, `{.a.b}`, `{$.items[0].value}`, `{$.a['b.c']}`, `{$.items[*].v}`,
// `{$.items[-1]}`, `{$.items[0:2]}`, `{$['a','b']}` or `{$..name}`. Filters (`?(…)`), `range`
// and text outside the braces are not supported and are rejected by parse().
//
// Internal to the web provider (nlohmann::json in the interface). Thread safety: a parsed
// JsonPath is immutable; find() may run concurrently.

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "ramp/error.h"

namespace ramp::analysis::providers {

class JsonPath {
 public:
  // Parses `text`. On error returns kParse naming the column (1-based) and what was expected.
  static Result<JsonPath> parse(std::string_view text);

  // Returns every value the path selects, in document order. A named field that is absent, or
  // an index out of range, is an error (kNotFound) as in Kubernetes ("… is not found", "array
  // index out of bounds: …"); a wildcard over an empty list selects nothing.
  Result<std::vector<const nlohmann::json*>> find(const nlohmann::json& doc) const;

 private:
  struct Field {
    std::vector<std::string> names;  // one, or a union ['a','b']
  };
  struct Index {
    std::vector<int64_t> indexes;  // one, or a union [0,2]
  };
  struct Slice {
    std::optional<int64_t> start, end;
    int64_t step = 1;
  };
  struct Wildcard {};
  struct Recursive {
    std::string name;  // ..name ("" = ..*)
  };
  using Step = std::variant<Field, Index, Slice, Wildcard, Recursive>;
  std::vector<Step> steps_;
};

}  // namespace ramp::analysis::providers
