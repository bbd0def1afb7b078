#pragma once

// Node: the generic tree the decoder reads, built from YAML (libyaml's event parser, with
// line/column marks; not yaml-cpp, which loops forever on some malformed flow input) or JSON
// (nlohmann). Scalars are already typed (YAML 1.2 core schema for plain scalars; quoted scalars
// are strings). Aliases are expanded, counted against DecodeLimits::maxNodes. Internal to src/spec.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ramp/spec/diagnostic.h"
#include "spec/codec.h"

namespace ramp::spec::internal {

struct Node;

struct MapEntry;

struct Node {
  enum class Type { kNull, kBool, kInt, kFloat, kString, kSeq, kMap };
  Type type = Type::kNull;
  int32_t line = 0;  // 1-based; 0 = unknown
  int32_t column = 0;
  bool boolean = false;
  int64_t integer = 0;
  double number = 0;
  std::string text;  // string value; for other scalars the source text
  std::vector<Node> items;
  std::vector<MapEntry> entries;
};

struct MapEntry {
  std::string key;
  int32_t line = 0;
  int32_t column = 0;
  Node value;
};

const char* typeName(Node::Type type);

struct LoadOutput {
  std::vector<Node> documents;  // one per YAML document (null documents included)
  std::vector<Diagnostic> diagnostics;
  bool failed = false;  // not readable at all; documents is empty
};

// Loads all YAML documents of `text` within `limits`. On a syntax error, an undefined alias,
// binary input or a limit exceeded: `failed`, no documents, and one diagnostic with the
// line/column of the problem. Always returns (libyaml reads the input in one pass).
LoadOutput loadYaml(std::string_view text, std::string_view file, const DecodeLimits& limits);

// Loads one JSON value within `limits`.
LoadOutput loadJson(std::string_view text, std::string_view file, const DecodeLimits& limits);

}  // namespace ramp::spec::internal
