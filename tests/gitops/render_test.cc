// gitops/render.h: a revision's files -> the objects of an Application.
#include "gitops/render.h"

#include <gtest/gtest.h>

#include "gitops/gitops_fixtures.h"

namespace ramp::gitops {
namespace {

using testing::application;
using testing::rolloutYaml;
using testing::twoEnvironments;

std::vector<std::string> names(const RenderOutput& out) {
  std::vector<std::string> v;
  for (const spec::Document& d : out.documents) {
    const auto& m = spec::metadataOf(d.object);
    v.push_back(d.file + " " + m.namespace_ + "/" + m.name);
  }
  return v;
}

TEST(RenderTest, ReadsTheDirectoryAndRecursesOnlyWhenAsked) {
  RenderOutput flat = render(twoEnvironments(), application("environments/staging"));
  EXPECT_EQ(names(flat), std::vector<std::string>{"environments/staging/shop.yaml shop/shop"});
  spec::Application app = application("environments/staging");
  app.spec.source.directory = spec::ApplicationSourceDirectory{true};
  RenderOutput deep = render(twoEnvironments(), app);
  EXPECT_EQ(names(deep), (std::vector<std::string>{"environments/staging/extra/cart.yaml shop/cart",
                                                   "environments/staging/shop.yaml shop/shop"}));
  app.spec.source.path = "./environments/staging/";
  EXPECT_EQ(render(twoEnvironments(), app).documents.size(), 2u);
  // The root, recursively: both environments define Rollout shop/shop, which is an error.
  app.spec.source.path = "";
  RenderOutput root = render(twoEnvironments(), app);
  EXPECT_TRUE(root.documents.empty());
  EXPECT_EQ(root.files.size(), 3u);
}

TEST(RenderTest, NamespaceTrackingAndImages) {
  FileTree files = twoEnvironments();
  files["environments/prod/other.yaml"] =
      "apiVersion: argoproj.io/v1alpha1\nkind: AnalysisTemplate\nmetadata: {name: ok, namespace: "
      "tools}\nspec: {metrics: [{name: m, provider: {web: {url: 'http://x'}}}]}\n";
  spec::Application app = application("environments/prod");
  app.spec.source.kustomize = spec::ApplicationSourceKustomize{{"shop=registry.local/shop:9"}};
  RenderOutput out = render(files, app);
  ASSERT_EQ(out.documents.size(), 2u);
  const auto& tmpl = std::get<spec::AnalysisTemplate>(out.documents[0].object);
  EXPECT_EQ(tmpl.metadata.namespace_, "tools") << "a namespace in the manifest is kept";
  EXPECT_EQ(tmpl.metadata.annotations.at(kTrackingAnnotation),
            "shop-prod:argoproj.io/AnalysisTemplate:tools/ok");
  const auto& r = std::get<spec::Rollout>(out.documents[1].object);
  EXPECT_EQ(r.metadata.namespace_, "shop") << "no namespace: the destination's";
  EXPECT_EQ(r.spec.template_->spec.containers[0].image, "registry.local/shop:9");
  EXPECT_EQ(trackedApp(r.metadata.annotations.at(kTrackingAnnotation)), "shop-prod");
  EXPECT_EQ(trackedApp("no-tracking"), "");
}

TEST(RenderTest, AnInvalidFileRendersNothingAndNamesFileLineColumn) {
  FileTree files = twoEnvironments();
  files["environments/prod/broken.yaml"] =
      "apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata: {name: b}\nspec:\n  replicas: "
      "many\n";
  RenderOutput out = render(files, application("environments/prod"));
  EXPECT_TRUE(out.documents.empty()) << "a revision is applied whole or not at all";
  ASSERT_TRUE(spec::hasErrors(out.diagnostics));
  EXPECT_EQ(spec::formatDiagnostic(out.diagnostics[0]),
            "environments/prod/broken.yaml:5:13: spec.replicas: must be an integer, got string "
            "\"many\"");
}

TEST(RenderTest, TheSameObjectTwiceIsAnError) {
  FileTree files = twoEnvironments();
  files["environments/prod/again.yaml"] = rolloutYaml("shop", "shop:3");
  RenderOutput out = render(files, application("environments/prod"));
  EXPECT_TRUE(out.documents.empty());
  ASSERT_EQ(out.diagnostics.size(), 1u);
  EXPECT_EQ(spec::formatDiagnostic(out.diagnostics[0]),
            "environments/prod/shop.yaml:1:1: metadata.name: Rollout shop/shop is defined twice "
            "in the revision");
}

}  // namespace
}  // namespace ramp::gitops
