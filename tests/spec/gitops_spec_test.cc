// Argo CD's Application and AppProject: decoding (ignored fields reported with positions),
// validation, the JSON round trip, and the image override and sync option helpers.
#include <gtest/gtest.h>

#include "spec/codec.h"
#include "spec/gitops_values.h"
#include "spec/validation.h"

namespace ramp::spec {
namespace {

std::string dump(const std::vector<Diagnostic>& ds) {
  std::string s;
  for (const Diagnostic& d : ds) s += "  " + formatDiagnostic(d) + "\n";
  return s;
}

// An Argo CD Application as its docs write one, with fields ramp does not read.
const char* kApplication = R"(apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: shop-staging
  namespace: argocd
  finalizers: [resources-finalizer.argocd.argoproj.io]
spec:
  project: shop
  source:
    repoURL: https://git.example.com/shop/deploy.git
    targetRevision: main
    path: environments/staging
    directory:
      recurse: true
      jsonnet: {}
    kustomize:
      images: ["shop=registry.example.com/shop:1.2"]
  destination:
    server: https://kubernetes.default.svc
    namespace: shop
  syncPolicy:
    automated: {prune: true, selfHeal: true}
    syncOptions: [CreateNamespace=true, PruneLast=true]
  revisionHistoryLimit: 10
  ignoreDifferences: []
)";

TEST(GitopsSpecTest, ApplicationDecodesAndReportsIgnoredFieldsWithPositions) {
  LintResult out = lintText(kApplication, "app.yaml");
  ASSERT_EQ(out.documents.size(), 1u) << dump(out.diagnostics);
  EXPECT_FALSE(hasErrors(out.diagnostics)) << dump(out.diagnostics);
  const auto& app = std::get<Application>(out.documents[0].object);
  EXPECT_EQ(kindOf(out.documents[0].object), Kind::kApplication);
  EXPECT_EQ(app.metadata.namespace_, "argocd");
  EXPECT_EQ(app.spec.project, "shop");
  EXPECT_EQ(app.spec.source.repoURL, "https://git.example.com/shop/deploy.git");
  EXPECT_EQ(app.spec.source.path, "environments/staging");
  EXPECT_EQ(app.spec.source.targetRevision, "main");
  ASSERT_TRUE(app.spec.source.directory);
  EXPECT_TRUE(app.spec.source.directory->recurse);
  ASSERT_TRUE(app.spec.source.kustomize);
  EXPECT_EQ(app.spec.source.kustomize->images,
            std::vector<std::string>{"shop=registry.example.com/shop:1.2"});
  EXPECT_EQ(app.spec.destination.namespace_, "shop");
  ASSERT_TRUE(app.spec.syncPolicy && app.spec.syncPolicy->automated);
  EXPECT_TRUE(app.spec.syncPolicy->automated->prune);
  EXPECT_TRUE(app.spec.syncPolicy->automated->selfHeal);

  // Every field ramp does not read, and the sync option it does not apply, is one warning at
  // its position; nothing else is reported.
  std::vector<std::string> got;
  for (const Diagnostic& d : out.diagnostics) got.push_back(formatDiagnostic(d));
  EXPECT_EQ(got, (std::vector<std::string>{
                     "app.yaml:15:7: warning: spec.source.directory.jsonnet: \"jsonnet\" is a "
                     "field of Argo CD that ramp does not read: ignored",
                     "app.yaml:23:19: warning: spec.syncPolicy.syncOptions[0]: sync option "
                     "CreateNamespace does not apply to ramp: ignored",
                     "app.yaml:24:3: warning: spec.revisionHistoryLimit: \"revisionHistoryLimit\" "
                     "is a field of Argo CD that ramp does not read: ignored",
                     "app.yaml:25:3: warning: spec.ignoreDifferences: \"ignoreDifferences\" is a "
                     "field of Argo CD that ramp does not read: ignored",
                 }))
      << dump(out.diagnostics);
}

TEST(GitopsSpecTest, ApplicationRoundTripsThroughJsonWithStatusAndOperation) {
  ParseOutput parsed = parseDocuments(kApplication, "app.yaml");
  ASSERT_EQ(parsed.documents.size(), 1u);
  auto app = std::get<Application>(parsed.documents[0].object);
  app.operation = Operation{SyncOperation{"abc123", true}, OperationInitiator{"alice", false}, {}};
  app.status.sync = {"OutOfSync", "0123abcd"};
  app.status.health = {"Suspended", "Rollout is paused"};
  app.status.history.push_back(
      RevisionHistory{1, "0123abcd", Time(std::chrono::seconds(1000)), std::nullopt, {"", true}});
  app.status.conditions.push_back({"RepositoryError", "repository unreachable", std::nullopt});
  ResourceStatus r;
  r.group = "argoproj.io";
  r.kind = "Rollout";
  r.name = "shop";
  r.namespace_ = "shop";
  r.status = "OutOfSync";
  r.health = ApplicationHealth{"Healthy", ""};
  app.status.resources.push_back(r);
  const std::string json = toJson(app);
  Decoded<Application> back = applicationFromJson(json, "stored");
  ASSERT_TRUE(back.value) << dump(back.diagnostics) << json;
  EXPECT_EQ(*back.value, app) << json;
  Decoded<Object> any = objectFromJson(json, "stored");
  ASSERT_TRUE(any.value);
  EXPECT_EQ(kindOf(*any.value), Kind::kApplication);
}

TEST(GitopsSpecTest, AppProjectDecodesAndRoundTrips) {
  const char* yaml = R"(apiVersion: argoproj.io/v1alpha1
kind: AppProject
metadata: {name: shop, namespace: argocd}
spec:
  description: the shop
  sourceRepos: ["https://git.example.com/shop/*", "!https://git.example.com/shop/secret.git"]
  destinations: [{namespace: "shop*", server: "*"}]
  clusterResourceWhitelist: [{group: "*", kind: "*"}]
  syncWindows:
  - {kind: deny, schedule: "0 22 * * *", duration: 8h, applications: ["*"], manualSync: true,
     timeZone: Europe/Paris}
)";
  LintResult out = lintText(yaml, "proj.yaml");
  ASSERT_EQ(out.documents.size(), 1u) << dump(out.diagnostics);
  EXPECT_FALSE(hasErrors(out.diagnostics)) << dump(out.diagnostics);
  ASSERT_EQ(out.diagnostics.size(), 1u) << dump(out.diagnostics);
  EXPECT_EQ(out.diagnostics[0].path, "spec.clusterResourceWhitelist");
  EXPECT_EQ(out.diagnostics[0].line, 8);
  const auto& p = std::get<AppProject>(out.documents[0].object);
  ASSERT_EQ(p.spec.syncWindows.size(), 1u);
  EXPECT_EQ(p.spec.syncWindows[0].timeZone, "Europe/Paris");
  EXPECT_TRUE(p.spec.syncWindows[0].manualSync);
  Decoded<AppProject> back = appProjectFromJson(toJson(p), "stored");
  ASSERT_TRUE(back.value);
  EXPECT_EQ(*back.value, p);
}

// Each row: a YAML fragment and the error it must give, at file:line:column and path.
TEST(GitopsSpecTest, InvalidFieldsAreErrorsWithPositions) {
  struct Row {
    std::string yaml;
    std::string want;
  };
  const std::string app =
      "apiVersion: argoproj.io/v1alpha1\nkind: Application\n"
      "metadata: {name: a}\nspec:\n";
  const std::string proj =
      "apiVersion: argoproj.io/v1alpha1\nkind: AppProject\n"
      "metadata: {name: p}\nspec:\n";
  const Row rows[] = {
      {app + "  source: {path: x}\n",
       "m.yaml:5:11: spec.source.repoURL: must be set (the Git repository to read)"},
      {app + "  source: {repoURL: r, path: ../up}\n",
       "m.yaml:5:30: spec.source.path: must be a relative path inside the repository, got "
       "\"../up\""},
      {app + "  source: {repoURL: r, kustomize: {images: [shop]}}\n",
       "m.yaml:5:45: spec.source.kustomize.images[0]: \"shop\" changes nothing: give a tag "
       "(name:tag), a digest (name@sha256:…) or a new name (name=newName)"},
      {app + "  source: {repoURL: r}\n  syncPolicy: {syncOptions: [Prune]}\n",
       "m.yaml:6:30: spec.syncPolicy.syncOptions[0]: \"Prune\" is not Key=Value"},
      {app + "  source: {repoURL: r}\n  syncPolicy: {automated: {prune: yes}}\n",
       "m.yaml:6:35: spec.syncPolicy.automated.prune: must be true or false, got string \"yes\""},
      {proj + "  syncWindows: [{kind: block, schedule: '* * * * *', duration: 1h, "
              "applications: ['*']}]\n",
       "m.yaml:5:24: spec.syncWindows[0].kind: must be allow or deny, got \"block\""},
      {proj + "  syncWindows: [{kind: deny, schedule: '0 24 * * *', duration: 1h, "
              "applications: ['*']}]\n",
       "m.yaml:5:40: spec.syncWindows[0].schedule: hour: 24 is out of range 0-23"},
      {proj + "  syncWindows: [{kind: deny, schedule: '0 2 * *', duration: 1h, "
              "applications: ['*']}]\n",
       "m.yaml:5:40: spec.syncWindows[0].schedule: expected 5 fields (minute hour day-of-month "
       "month day-of-week), got 4"},
      {proj + "  syncWindows: [{kind: deny, schedule: '0 2 * * *', duration: 1d, "
              "applications: ['*']}]\n",
       "m.yaml:5:63: spec.syncWindows[0].duration: time: unknown unit \"d\" in duration \"1d\""},
      {proj + "  syncWindows: [{kind: deny, schedule: '0 2 * * *', duration: 1h, "
              "timeZone: Mars/Olympus, applications: ['*']}]\n",
       "m.yaml:5:77: spec.syncWindows[0].timeZone: unknown time zone \"Mars/Olympus\" (an IANA "
       "name such as Europe/Paris is expected)"},
      {proj + "  destinations: [{server: '*'}]\n",
       "m.yaml:5:18: spec.destinations[0].namespace: must be set (a namespace or glob; \"*\" for "
       "any)"},
  };
  for (const Row& row : rows) {
    LintResult out = lintText(row.yaml, "m.yaml");
    std::vector<std::string> errors;
    for (const Diagnostic& d : out.diagnostics) {
      if (d.severity == Severity::kError) errors.push_back(formatDiagnostic(d));
    }
    EXPECT_EQ(errors, std::vector<std::string>{row.want}) << row.yaml;
  }
}

TEST(GitopsSpecTest, ImageOverrides) {
  struct Row {
    const char* override;
    const char* image;
    std::optional<std::string> want;
  };
  const Row rows[] = {
      {"shop=reg:5000/shop:2", "shop:1", "reg:5000/shop:2"},
      {"shop:2", "shop:1", "shop:2"},
      {"shop:2", "shop", "shop:2"},
      {"reg:5000/shop:2", "reg:5000/shop:1", "reg:5000/shop:2"},
      {"shop@sha256:abc", "shop:1", "shop@sha256:abc"},
      {"shop=other", "shop:1", "other:1"},
      {"shop:2", "shopping:1", std::nullopt},
      {"shop:2", "reg/shop:1", std::nullopt},
  };
  for (const Row& row : rows) {
    auto o = parseImageOverride(row.override);
    ASSERT_TRUE(o) << row.override << ": " << o.error().message;
    EXPECT_EQ(applyImageOverride(row.image, *o), row.want) << row.override << " on " << row.image;
  }
  EXPECT_FALSE(parseImageOverride("=x"));
  EXPECT_FALSE(parseImageOverride("shop"));
  EXPECT_FALSE(parseImageOverride("shop@abc"));
  EXPECT_EQ(imageName("reg:5000/a/b:1@sha256:x"), "reg:5000/a/b");
}

TEST(GitopsSpecTest, SyncOptions) {
  const std::vector<std::string> options = {"PruneLast=true", "Validate=false", "PruneLast=false"};
  EXPECT_EQ(syncOptionValue(options, "PruneLast"), "false");
  EXPECT_EQ(syncOptionValue(options, "Validate"), "false");
  EXPECT_EQ(syncOptionValue(options, "Replace"), "");
  EXPECT_TRUE(syncOptionApplies("ApplyOutOfSyncOnly"));
  EXPECT_FALSE(syncOptionApplies("CreateNamespace"));
  EXPECT_TRUE(syncOptionKnown("CreateNamespace"));
  EXPECT_FALSE(syncOptionKnown("Frobnicate"));
}

}  // namespace
}  // namespace ramp::spec
