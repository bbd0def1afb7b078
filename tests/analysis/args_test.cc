// Args: merging (reference §1.6), "{{args.x}}" substitution into every field (§3.1), templating
// (src/common/template.h), Go durations, the secret directory, run creation from templates.

#include "analysis/args.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "analysis/run_factory.h"
#include "analysis/secret_dir.h"
#include "analysis/test_util.h"
#include "common/template.h"

namespace ramp::analysis {
namespace {

using namespace testutil;

spec::Argument arg(std::string name, std::optional<std::string> value = std::nullopt) {
  return spec::Argument{std::move(name), std::move(value), std::nullopt};
}

// --- templating ------------------------------------------------------------------------------

TemplateLookup lookupOf(std::map<std::string, std::string> m) {
  return [m](std::string_view name) -> std::optional<std::string> {
    auto it = m.find(std::string(name));
    if (it == m.end()) return std::nullopt;
    return it->second;
  };
}

TEST(Template, ReplacesTolerantOfWhitespace) {
  auto r = expandTemplate("a {{args.x}} b {{ args.x }} c {{\targs.y  }}",
                          lookupOf({{"args.x", "1"}, {"args.y", "2"}}));
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, "a 1 b 1 c 2");
}

TEST(Template, UnresolvedNamesTheTagAsWritten) {
  auto r = expandTemplate("q{{ args.missing }}", lookupOf({}));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "failed to resolve {{ args.missing }}");
}

TEST(Template, UnterminatedIsAnError) {
  EXPECT_FALSE(expandTemplate("x {{args.a", lookupOf({{"args.a", "1"}})));
}

TEST(Template, NoPlaceholderUnchanged) {
  EXPECT_EQ(*expandTemplate("sum(rate(x[5m])) } {", lookupOf({})), "sum(rate(x[5m])) } {");
}

TEST(Template, ValueIsNotReexpanded) {
  EXPECT_EQ(*expandTemplate("{{a}}", lookupOf({{"a", "{{b}}"}})), "{{b}}");
}

// --- merge -----------------------------------------------------------------------------------

TEST(MergeArgs, IncomingFillsDeclaredByName) {
  auto r = mergeArgs({arg("svc", "web"), arg("extra", "ignored")}, {arg("svc"), arg("ns", "d")});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->size(), 2u) << "undeclared incoming args are ignored (§10.12)";
  EXPECT_EQ((*r)[0].value, "web");
  EXPECT_EQ((*r)[1].value, "d");
}

TEST(MergeArgs, IncomingOverridesDefault) {
  auto r = mergeArgs({arg("ns", "prod")}, {arg("ns", "default")});
  ASSERT_TRUE(r);
  EXPECT_EQ((*r)[0].value, "prod");
}

TEST(MergeArgs, DeclaredWithoutValueIsAnError) {
  auto r = mergeArgs({}, {arg("svc")});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "args.svc was not resolved");
}

TEST(MergeArgs, ValueFromCounts) {
  spec::Argument secret = arg("token");
  secret.valueFrom = spec::ArgumentValueFrom{};
  secret.valueFrom->secretKeyRef = spec::SecretKeyRef{"s", "k"};
  EXPECT_TRUE(mergeArgs({}, {secret}));
  EXPECT_TRUE(mergeArgs({secret}, {arg("token")}));
}

// --- substitution ----------------------------------------------------------------------------

TEST(Substitute, EveryStringFieldOfEveryProvider) {
  spec::Metric m;
  m.name = "{{args.a}}-name";
  m.interval = "{{args.a}}";
  m.initialDelay = "{{args.a}}";
  m.count = ios("{{args.a}}");
  m.failureLimit = ios("{{args.a}}");
  m.inconclusiveLimit = ios("{{args.a}}");
  m.consecutiveErrorLimit = ios("{{args.a}}");
  m.consecutiveSuccessLimit = ios("{{args.a}}");
  m.successCondition = "result > {{args.a}}";
  m.failureCondition = "result < {{args.a}}";
  spec::PrometheusMetric prom;
  prom.address = "http://{{args.a}}";
  prom.query = "up{job=\"{{args.a}}\"}";
  prom.headers = {{"{{args.a}}", "{{args.a}}"}};
  prom.authentication.basicAuth = spec::BasicAuth{"{{args.a}}", "{{args.a}}"};
  prom.authentication.oauth2 =
      spec::OAuth2Config{"{{args.a}}", "{{args.a}}", "{{args.a}}", {"{{args.a}}"}};
  prom.authentication.sigv4 = spec::Sigv4Config{"{{args.a}}", "{{args.a}}", "{{args.a}}"};
  prom.rangeQuery = spec::PrometheusRangeQuery{"{{args.a}}", "{{args.a}}", "{{args.a}}"};
  m.provider.prometheus = prom;
  spec::WebMetric web;
  web.url = "{{args.a}}";
  web.method = "{{args.a}}";
  web.body = "{{args.a}}";
  web.jsonBody.text = R"({"k":"{{args.a}}"})";
  web.jsonPath = "{$.{{args.a}}}";
  m.provider.web = web;
  spec::JobMetric job;
  job.command = {"{{args.a}}"};
  job.args = {"{{args.a}}"};
  job.env = {{"{{args.a}}", "{{args.a}}", {R"({"x":"{{args.a}}"})"}}};
  job.workingDir = "{{args.a}}";
  job.raw.text = R"({"c":"{{args.a}}"})";
  job.metadata.text = R"({"m":"{{args.a}}"})";
  m.provider.job = job;
  m.provider.plugin["ramp/judge"].text = R"({"p":"{{args.a}}"})";
  m.provider.other["datadog"].text = R"({"q":"{{args.a}}"})";

  auto r = substituteArgs(m, {{"a", "7"}});
  ASSERT_TRUE(r) << r.error().message;
  // Serialise every field we know of and check no placeholder is left.
  const spec::Metric& s = *r;
  std::string all = s.name + s.interval + s.initialDelay + s.count->stringValue() +
                    s.failureLimit->stringValue() + s.inconclusiveLimit->stringValue() +
                    s.consecutiveErrorLimit->stringValue() +
                    s.consecutiveSuccessLimit->stringValue() + s.successCondition +
                    s.failureCondition;
  const auto& p = *s.provider.prometheus;
  all += p.address + p.query + p.headers[0].key + p.headers[0].value +
         p.authentication.basicAuth->username + p.authentication.basicAuth->password +
         p.authentication.oauth2->tokenUrl + p.authentication.oauth2->clientId +
         p.authentication.oauth2->clientSecret + p.authentication.oauth2->scopes[0] +
         p.authentication.sigv4->region + p.authentication.sigv4->profile +
         p.authentication.sigv4->roleArn + p.rangeQuery->start + p.rangeQuery->end +
         p.rangeQuery->step;
  const auto& w = *s.provider.web;
  all += w.url + w.method + w.body + w.jsonBody.text + w.jsonPath;
  const auto& j = *s.provider.job;
  all += j.command[0] + j.args[0] + j.env[0].name + j.env[0].value + j.env[0].valueFrom.text +
         j.workingDir + j.raw.text + j.metadata.text;
  all += s.provider.plugin.at("ramp/judge").text + s.provider.other.at("datadog").text;
  EXPECT_EQ(all.find("{{"), std::string::npos) << all;
  EXPECT_EQ(s.count->stringValue(), "7");
  EXPECT_EQ(p.query, "up{job=\"7\"}");
  EXPECT_EQ(w.jsonBody.text, R"({"k":"7"})");
}

TEST(Substitute, RawJsonValuesAreEscaped) {
  spec::Metric m = metric("m");
  m.provider.web->jsonBody.text = R"({"k":"{{args.a}}"})";
  m.provider.web->body = "{{args.a}}";
  auto r = substituteArgs(m, {{"a", "say \"hi\"\n"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->provider.web->jsonBody.text, R"({"k":"say \"hi\"\n"})");
  EXPECT_EQ(r->provider.web->body, "say \"hi\"\n");
}

TEST(Substitute, UnknownOrNonArgPlaceholderFails) {
  spec::Metric m = metric("m");
  m.provider.web->url = "http://{{args.host}}/";
  auto r = substituteArgs(m, {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "failed to resolve {{args.host}}");
  m.provider.web->url = "http://{{templates.x.podTemplateHash}}/";
  EXPECT_FALSE(substituteArgs(m, {{"host", "h"}}));
}

TEST(ResolveArgValues, SecretPlaceholderWithoutSource) {
  spec::Argument secret = arg("token");
  secret.valueFrom = spec::ArgumentValueFrom{};
  secret.valueFrom->secretKeyRef = spec::SecretKeyRef{"s", "k"};
  auto r = resolveArgValues({secret, arg("plain", "v"), arg("unset")}, "default", nullptr, true);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->values.at("token"), kSecretPlaceholder);
  EXPECT_EQ(r->values.at("plain"), "v");
  EXPECT_FALSE(r->values.contains("unset"));
  EXPECT_TRUE(r->secrets.empty());
  EXPECT_FALSE(resolveArgValues({secret}, "default", nullptr, false));
}

// --- secret directory ------------------------------------------------------------------------

TEST(SecretDir, ReadsNamespacedKeysAndRefusesEscapes) {
  auto root =
      std::filesystem::temp_directory_path() / ("ramp-secretdir-" + std::to_string(::getpid()));
  std::filesystem::create_directories(root / "prod" / "db");
  std::ofstream(root / "prod" / "db" / "password") << "pw\n";
  SecretDir dir(root);
  EXPECT_EQ(*dir.get("prod", "db", "password"), "pw");
  EXPECT_EQ(dir.get("default", "db", "password").error().message, "secrets \"db\" not found");
  EXPECT_EQ(dir.get("prod", "db", "user").error().message,
            "key 'user' does not exist in secret 'db'");
  EXPECT_EQ(dir.get("prod", "..", "db").error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(dir.get("prod", "db/../db", "password").error().code, ErrorCode::kInvalidArgument);
  std::filesystem::remove_all(root);
}

// --- templates -> run ------------------------------------------------------------------------

spec::AnalysisTemplate tmpl(std::string name, std::vector<std::string> metrics,
                            std::vector<std::string> refs = {}, bool cluster = false) {
  spec::AnalysisTemplate t;
  t.metadata.name = std::move(name);
  t.clusterScoped = cluster;
  for (auto& m : metrics) t.spec.metrics.push_back(metric(m));
  for (auto& r : refs) t.spec.templates.push_back({r, false});
  return t;
}

TemplateFinder finderOf(std::vector<spec::AnalysisTemplate> all) {
  return [all](const spec::AnalysisTemplateRef& ref) -> Result<spec::AnalysisTemplate> {
    for (const auto& t : all) {
      if (t.metadata.name == ref.templateName && t.clusterScoped == ref.clusterScope) return t;
    }
    return makeError(ErrorCode::kNotFound,
                     "analysistemplate.argoproj.io \"" + ref.templateName + "\" not found");
  };
}

TEST(Templates, NestedReferencesFlattenOnce) {
  auto root = tmpl("root", {"a"}, {"mid", "leaf"});
  auto find = finderOf({tmpl("mid", {"b"}, {"leaf"}), tmpl("leaf", {"c"})});
  auto all = expandTemplateRefs(root, find);
  ASSERT_TRUE(all) << all.error().message;
  ASSERT_EQ(all->size(), 3u) << "diamond: leaf once";
  auto flat = flattenTemplates(*all);
  ASSERT_TRUE(flat);
  ASSERT_EQ(flat->metrics.size(), 3u);
  EXPECT_EQ(flat->metrics[0].name, "a");
  EXPECT_EQ(flat->metrics[1].name, "b");
  EXPECT_EQ(flat->metrics[2].name, "c");
}

TEST(Templates, CycleIsAnError) {
  auto find = finderOf({tmpl("a", {"x"}, {"b"}), tmpl("b", {"y"}, {"a"})});
  auto all = resolveTemplateRefs({{"a", false}}, find);
  ASSERT_FALSE(all);
  EXPECT_EQ(all.error().message, "template reference cycle: a -> b -> a");
}

TEST(Templates, MissingReferenceIsTheFindersError) {
  auto all = resolveTemplateRefs({{"nope", false}}, finderOf({}));
  ASSERT_FALSE(all);
  EXPECT_EQ(all.error().message, "analysistemplate.argoproj.io \"nope\" not found");
}

TEST(Templates, DuplicateMetricNamesAcrossTemplates) {
  auto flat = flattenTemplates({tmpl("a", {"x"}), tmpl("b", {"x"})});
  ASSERT_FALSE(flat);
  EXPECT_EQ(flat.error().message, "two metrics have the same name 'x'");
}

TEST(Templates, ConflictingArgValues) {
  auto a = tmpl("a", {"x"});
  auto b = tmpl("b", {"y"});
  a.spec.args = {arg("svc", "one"), arg("ns")};
  b.spec.args = {arg("svc", "two")};
  auto flat = flattenTemplates({a, b});
  ASSERT_FALSE(flat);
  EXPECT_EQ(flat.error().message,
            "Argument `svc` specified multiple times with different values: 'one', 'two'");
  b.spec.args = {arg("svc"), arg("ns", "prod")};
  flat = flattenTemplates({a, b});
  ASSERT_TRUE(flat);
  EXPECT_EQ(flat->args[0].value, "one") << "a value is not replaced by an arg without one";
  EXPECT_EQ(flat->args[1].value, "prod");
}

TEST(Templates, NewRunMergesArgsAndRules) {
  auto t = tmpl("success-rate", {"rate"});
  t.spec.args = {arg("svc")};
  t.spec.dryRun = {{"rate"}};
  NewRunOptions opts;
  opts.name = "success-rate-abc";
  opts.namespace_ = "prod";
  opts.args = {arg("svc", "web")};
  opts.measurementRetention = {{".*", 20}};
  auto run = newRunFromTemplates({t}, opts);
  ASSERT_TRUE(run) << run.error().message;
  EXPECT_EQ(run->metadata.name, "success-rate-abc");
  EXPECT_EQ(run->metadata.namespace_, "prod");
  EXPECT_EQ(run->spec.args[0].value, "web");
  EXPECT_EQ(run->spec.dryRun.size(), 1u);
  EXPECT_EQ(run->spec.measurementRetention[0].limit, 20);
  EXPECT_EQ(run->status.phase, AnalysisPhase::kNone);
  opts.args = {};
  auto bad = newRunFromTemplates({t}, opts);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message, "args.svc was not resolved");
  opts.args = {arg("svc", "web")};
  opts.dryRun = {{"rate"}};
  EXPECT_FALSE(newRunFromTemplates({t}, opts)) << "same dry-run rule twice";
}

}  // namespace
}  // namespace ramp::analysis
