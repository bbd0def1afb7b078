#include "gitops/render.h"

#include <set>
#include <tuple>

#include "spec/gitops_values.h"
#include "spec/kinds.h"
#include "spec/validation.h"

namespace ramp::gitops {
namespace {

bool isManifest(std::string_view path) {
  return path.ends_with(".yaml") || path.ends_with(".yml") || path.ends_with(".json");
}

spec::ObjectMeta& mutableMeta(spec::Object& o) {
  return std::visit([](auto& x) -> spec::ObjectMeta& { return x.metadata; }, o);
}

spec::Diagnostic error(std::string file, std::string path, std::string message) {
  spec::Diagnostic d;
  d.file = std::move(file);
  d.path = std::move(path);
  d.message = std::move(message);
  return d;
}

void overrideImages(std::vector<spec::Container>& containers,
                    const std::vector<spec::ImageOverride>& overrides) {
  for (spec::Container& c : containers) {
    for (const spec::ImageOverride& o : overrides) {
      if (auto image = spec::applyImageOverride(c.image, o)) c.image = *image;
    }
  }
}

}  // namespace

std::string sourcePrefix(std::string_view path) {
  while (path.starts_with("./")) path.remove_prefix(2);
  while (path.ends_with("/")) path.remove_suffix(1);
  if (path.empty() || path == ".") return "";
  return std::string(path) + "/";
}

std::string trackingId(std::string_view app, std::string_view kind, std::string_view namespace_,
                       std::string_view name) {
  return std::string(app) + ":argoproj.io/" + std::string(kind) + ":" + std::string(namespace_) +
         "/" + std::string(name);
}

std::string trackedApp(std::string_view id) {
  const size_t colon = id.find(':');
  if (colon == std::string_view::npos || id.find(":argoproj.io/", colon) != colon) return "";
  return std::string(id.substr(0, colon));
}

RenderOutput render(const FileTree& files, const spec::Application& app) {
  RenderOutput out;
  const std::string prefix = sourcePrefix(app.spec.source.path);
  const bool recurse = app.spec.source.directory && app.spec.source.directory->recurse;
  std::vector<spec::ImageOverride> overrides;
  if (app.spec.source.kustomize) {
    for (const std::string& text : app.spec.source.kustomize->images) {
      auto o = spec::parseImageOverride(text);
      if (!o) {
        out.diagnostics.push_back(
            error("", "spec.source.kustomize.images", "\"" + text + "\": " + o.error().message));
        continue;
      }
      overrides.push_back(*o);
    }
  }
  const std::string destination =
      app.spec.destination.namespace_.empty() ? "default" : app.spec.destination.namespace_;
  std::set<std::tuple<std::string, std::string, std::string>> seen;
  std::vector<spec::Document> documents;
  for (const auto& [path, content] : files) {
    if (!path.starts_with(prefix) || !isManifest(path)) continue;
    if (!recurse && path.find('/', prefix.size()) != std::string::npos) continue;
    out.files.push_back(path);
    spec::LintResult lint = spec::lintText(content, path);
    for (spec::Diagnostic& d : lint.diagnostics) out.diagnostics.push_back(std::move(d));
    for (spec::Document& doc : lint.documents) {
      spec::ObjectMeta& meta = mutableMeta(doc.object);
      if (doc.positions.count("metadata.namespace") == 0) meta.namespace_ = destination;
      const spec::Kind kind = spec::kindOf(doc.object);
      const std::string kindName = spec::kindName(kind);
      const std::string ns = spec::kindInfo(kind).clusterScoped ? std::string() : meta.namespace_;
      if (!seen.insert({kindName, ns, meta.name}).second) {
        spec::Diagnostic d = error(path, "metadata.name",
                                   kindName + " " + (ns.empty() ? "" : ns + "/") + meta.name +
                                       " is defined twice in the revision");
        d.line = doc.position.line;
        d.column = doc.position.column;
        out.diagnostics.push_back(std::move(d));
        continue;
      }
      meta.annotations[kTrackingAnnotation] =
          trackingId(app.metadata.name, kindName, ns, meta.name);
      auto* rollout = std::get_if<spec::Rollout>(&doc.object);
      if (rollout != nullptr && rollout->spec.template_) {
        overrideImages(rollout->spec.template_->spec.containers, overrides);
        overrideImages(rollout->spec.template_->spec.initContainers, overrides);
      }
      documents.push_back(std::move(doc));
    }
  }
  if (!spec::hasErrors(out.diagnostics)) out.documents = std::move(documents);
  return out;
}

}  // namespace ramp::gitops
