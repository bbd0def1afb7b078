#pragma once

// Manifests the gitops tests share: a repository tree with two environments and an Application
// reading one of them. Pure helpers.

#include <string>

#include "gitops/render.h"
#include "spec/codec.h"

namespace ramp::gitops::testing {

// A canary Rollout `name` with image `image` (3 replicas).
inline std::string rolloutYaml(const std::string& name, const std::string& image) {
  return "apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata: {name: " + name +
         "}\nspec:\n  replicas: 3\n  selector: {matchLabels: {app: " + name +
         "}}\n  template:\n    metadata: {labels: {app: " + name +
         "}}\n    spec: {containers: [{name: app, image: \"" + image +
         "\", command: [/usr/bin/true]}]}\n  strategy:\n    canary:\n      steps: [{setWeight: "
         "20}, {pause: {}}]\n";
}

// environments/staging and environments/prod, each with a Rollout; staging also has a nested
// directory.
inline FileTree twoEnvironments(const std::string& prodImage = "shop:1") {
  return {
      {"README.md", "# deploy\n"},
      {"environments/prod/shop.yaml", rolloutYaml("shop", prodImage)},
      {"environments/staging/shop.yaml", rolloutYaml("shop", "shop:2")},
      {"environments/staging/extra/cart.yaml", rolloutYaml("cart", "cart:1")},
  };
}

inline spec::Application application(const std::string& path, const std::string& extra = "") {
  const std::string yaml =
      "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: shop-" +
      path.substr(path.rfind('/') + 1) +
      ", namespace: argocd}\nspec:\n  source: {repoURL: "
      "\"https://git.example.com/shop.git\", path: " +
      path + ", targetRevision: main}\n  destination: {namespace: shop}\n" + extra;
  spec::ParseOutput out = spec::parseDocuments(yaml, "app.yaml");
  return std::get<spec::Application>(out.documents.at(0).object);
}

}  // namespace ramp::gitops::testing
