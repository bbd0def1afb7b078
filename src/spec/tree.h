#pragma once

// A generic document tree with line/column marks, for formats other modules own that are not
// Argo objects (a kubeconfig, …): the same loader the manifests use (libyaml's event parser, YAML
// 1.2 core schema for plain scalars, aliases expanded within limits; JSON is read as YAML). A
// caller walks the tree and reports problems with file:line:column and its own field paths.
//
// Thread safety: pure functions.

#include <string_view>

#include "spec/node.h"

namespace ramp::spec {

using TreeNode = internal::Node;
using TreeEntry = internal::MapEntry;
using TreeOutput = internal::LoadOutput;

// Loads every document of `text` with the default DecodeLimits. On a syntax error or a limit
// exceeded: `failed`, no documents, and one diagnostic naming `file`, line and column.
TreeOutput loadTree(std::string_view text, std::string_view file);

// The entry named `key` of a map node, or nullptr (also when `node` is not a map).
const TreeEntry* findEntry(const TreeNode& node, std::string_view key);

}  // namespace ramp::spec
