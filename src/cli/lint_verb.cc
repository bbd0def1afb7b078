// `ramp lint -f FILE [-f FILE…] [--platform NAME] [-o json]`: decodes and validates manifests
// without a daemon: Argo's rules (spec/validation.h), the configs of ramp's own routers, two
// Rollouts claiming one backend, and whether a platform can run each Rollout (Registry::
// checkPlatform): against --platform as errors, else against platform.process (the default of
// `ramp serve`) as warnings. Exit 0 when every object is valid, 1 when any is invalid, 2 when a
// file cannot be read or is not YAML.

#include <algorithm>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <ostream>
#include <sstream>

#include "cli/verb.h"
#include "ramp/registry.h"
#include "spec/validation.h"

namespace ramp::cli {
namespace {

class LintVerb final : public Verb {
 public:
  std::string name() const override { return "lint"; }
  std::string summary() const override {
    return "Check Rollout and AnalysisTemplate manifests (file:line:column: path: message)";
  }
  void configure(CLI::App& cmd) override {
    cmd.add_option("-f,--filename", files_, "Manifest file (YAML or JSON; '-' for stdin)")
        ->required();
    cmd.add_option("-o,--output", output_, "Output format: text (default) or json")
        ->check(CLI::IsMember({"text", "json"}));
    cmd.add_option("--platform", platform_,
                   "Check that this platform (platform.process, platform.sim) can run every "
                   "Rollout: problems are errors (without it: warnings for platform.process)");
  }

  int run(IoStreams& io) override {
    Registry registry;
    registerBuiltins(registry);
    const std::string platform = platform_.empty() ? std::string(kDefaultPlatform) : platform_;
    if (!platform_.empty()) {
      if (auto names = registry.names();
          std::find(names.begin(), names.end(), platform_) == names.end() ||
          !platform_.starts_with("platform.")) {
        io.err << "ramp lint: --platform " << platform_ << ": not a registered platform\n";
        return 2;
      }
    }
    std::vector<spec::Diagnostic> all;
    std::vector<ClaimHolder> claims;
    bool unreadable = false;
    size_t objects = 0;
    for (const std::string& file : files_) {
      std::string text;
      if (!readFile(file, &text)) {
        spec::Diagnostic d;
        d.file = file;
        d.message = "cannot read file";
        all.push_back(d);
        unreadable = true;
        continue;
      }
      spec::LintResult r = spec::lintText(text, file);
      unreadable = unreadable || r.unreadable;
      objects += r.documents.size();
      for (spec::Diagnostic& d : r.diagnostics) all.push_back(std::move(d));
      for (const spec::Document& doc : r.documents) {
        const auto* rollout = std::get_if<spec::Rollout>(&doc.object);
        if (rollout == nullptr) continue;
        std::vector<spec::Diagnostic> ds = registry.checkRouters(*rollout);
        for (spec::Diagnostic& d : registry.checkPlatform(*rollout, platform)) {
          if (platform_.empty() && d.severity == spec::Severity::kError) {
            d.severity = spec::Severity::kWarning;
          }
          ds.push_back(std::move(d));
        }
        // Claims in the files: each Rollout against those before it (file order stands in for
        // creation order).
        const std::string key =
            (rollout->metadata.namespace_.empty() ? std::string("default")
                                                  : rollout->metadata.namespace_) +
            "/" + rollout->metadata.name;
        std::vector<ClaimHolder> mine = registry.claimsOf(key, *rollout);
        for (ClaimHolder& c : mine)
          c.createdAt = Time(Duration(static_cast<int64_t>(claims.size())));
        for (spec::Diagnostic& d : claimConflicts(mine, claims)) ds.push_back(std::move(d));
        claims.insert(claims.end(), mine.begin(), mine.end());
        spec::locate(ds, doc);
        for (spec::Diagnostic& d : ds) all.push_back(std::move(d));
      }
    }
    bool invalid = spec::hasErrors(all);
    if (output_ == "json") {
      nlohmann::json list = nlohmann::json::array();
      for (const spec::Diagnostic& d : all) {
        list.push_back({{"file", d.file},
                        {"line", d.line},
                        {"column", d.column},
                        {"path", d.path},
                        {"message", d.message},
                        {"severity", spec::severityName(d.severity)}});
      }
      io.out << list.dump(2) << "\n";
    } else {
      for (const spec::Diagnostic& d : all) {
        (d.severity == spec::Severity::kError ? io.err : io.out)
            << spec::formatDiagnostic(d) << "\n";
      }
      if (!invalid && !unreadable) {
        io.out << objects << (objects == 1 ? " object" : " objects") << " valid in "
               << files_.size() << (files_.size() == 1 ? " file" : " files") << "\n";
      }
    }
    if (unreadable) return 2;
    return invalid ? 1 : 0;
  }

 private:
  static bool readFile(const std::string& path, std::string* out) {
    constexpr size_t kMaxRead = 64 * 1024 * 1024;  // the decoder's own limit is smaller
    std::istream* in = nullptr;
    std::ifstream file;
    if (path == "-") {
      in = &std::cin;
    } else {
      file.open(path, std::ios::binary);
      if (!file) return false;
      in = &file;
    }
    std::ostringstream buf;
    char chunk[65536];
    size_t total = 0;
    while (in->read(chunk, sizeof chunk) || in->gcount() > 0) {
      total += static_cast<size_t>(in->gcount());
      buf.write(chunk, in->gcount());
      if (total > kMaxRead) break;
    }
    if (in->bad()) return false;
    *out = buf.str();
    return true;
  }

  static constexpr std::string_view kDefaultPlatform = "platform.process";

  std::vector<std::string> files_;
  std::string output_ = "text";
  std::string platform_;
};

}  // namespace

VerbPtr makeLintVerb() { return std::make_unique<LintVerb>(); }

}  // namespace ramp::cli
