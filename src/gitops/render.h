#pragma once

// Rendering: the files of an Application's source at one Git revision -> the objects to apply.
// Argo CD's "directory" source type: every *.yaml, *.yml and *.json file directly under
// spec.source.path (and below it with directory.recurse), in path order, each parsed and
// validated by src/spec with diagnostics that name the file in the repository with line and
// column. Then ramp's part of kustomize: spec.source.kustomize.images overrides are applied to
// the containers of Rollouts (no kustomize binary; kustomization.yaml files are not read).
// Objects without a namespace land in spec.destination.namespace, and each object carries Argo
// CD's tracking annotation (argocd.argoproj.io/tracking-id), which is how the agent knows what
// an Application owns.
//
// Pure functions, no I/O: the shell reads the files through GitSource. Thread-safe.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ramp/spec/diagnostic.h"
#include "ramp/spec/gitops.h"
#include "spec/codec.h"

namespace ramp::gitops {

inline constexpr const char* kTrackingAnnotation = "argocd.argoproj.io/tracking-id";

// Files of a revision: path relative to the repository root ("environments/prod/app.yaml") ->
// content.
using FileTree = std::map<std::string, std::string>;

// The source path as a directory prefix: "" for the root, else "a/b/" ("./a/b" and "a/b/" too).
std::string sourcePrefix(std::string_view path);

// Argo CD's tracking id "<app>:<group>/<kind>:<namespace>/<name>".
std::string trackingId(std::string_view app, std::string_view kind, std::string_view namespace_,
                       std::string_view name);
// The application a tracking id names ("" when it is not one).
std::string trackedApp(std::string_view trackingId);

struct RenderOutput {
  std::vector<spec::Document> documents;  // in file order; only when no error was found
  std::vector<spec::Diagnostic> diagnostics;
  std::vector<std::string> files;  // the manifest files read
};

// Renders `files` for `app`. Errors (a file that is not valid, an override that does not parse,
// the same object twice) are diagnostics of severity error, and then no document is returned:
// a revision is applied whole or not at all. An empty directory renders no object (the caller
// decides whether the path exists).
RenderOutput render(const FileTree& files, const spec::Application& app);

}  // namespace ramp::gitops
