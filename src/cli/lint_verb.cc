// `ramp lint -f FILE [-f FILE…] [-o json]`: decodes and validates manifests without a daemon.
// Exit 0 when every object is valid, 1 when any is invalid, 2 when a file cannot be read or is
// not YAML.

#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <ostream>
#include <sstream>

#include "cli/verb.h"
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
  }

  int run(IoStreams& io) override {
    std::vector<spec::Diagnostic> all;
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

  std::vector<std::string> files_;
  std::string output_ = "text";
};

}  // namespace

VerbPtr makeLintVerb() { return std::make_unique<LintVerb>(); }

}  // namespace ramp::cli
