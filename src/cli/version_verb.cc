#include <ostream>

#include "cli/verb.h"

namespace ramp::cli {
namespace {

class VersionVerb final : public Verb {
 public:
  std::string name() const override { return "version"; }
  std::string summary() const override { return "Print the version and build information"; }
  void configure(CLI::App& cmd) override {}
  int run(IoStreams& io) override {
    io.out << "ramp " << RAMP_VERSION << "\n"
           << "  commit:   " << RAMP_GIT_COMMIT << "\n"
           << "  build:    " << RAMP_BUILD_TYPE << "\n"
           << "  compiler: " << RAMP_COMPILER << "\n";
    return 0;
  }
};

}  // namespace

VerbPtr makeVersionVerb() { return std::make_unique<VersionVerb>(); }

}  // namespace ramp::cli
