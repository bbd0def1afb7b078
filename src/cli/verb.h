#pragma once

// Verb: one CLI command. configure() declares its flags on a CLI11 subcommand; run() does the
// work after parsing and returns the exit code.

#include <CLI/CLI.hpp>
#include <memory>
#include <string>
#include <vector>

#include "cli/cli.h"

namespace ramp::cli {

class Verb {
 public:
  virtual ~Verb() = default;
  virtual std::string name() const = 0;
  virtual std::string summary() const = 0;
  // Declares flags and sub-subcommands on `cmd` (already named and described).
  virtual void configure(CLI::App& cmd) = 0;
  // Runs after a successful parse. Returns the process exit code.
  virtual int run(IoStreams& io) = 0;
};

using VerbPtr = std::unique_ptr<Verb>;

// The one explicit list of verbs (verbs.cc).
std::vector<VerbPtr> builtinVerbs();

// Factories, one per verb file.
VerbPtr makeVersionVerb();
VerbPtr makeAnalyzeVerb();
VerbPtr makeLintVerb();
VerbPtr makeServeVerb();  // serve_verb.cc
VerbPtr makeAuditVerb();  // audit_verb.cc: keygen, verify, show, export
// Verbs that talk to a running server (read_verbs.cc, write_verbs.cc).
VerbPtr makeApplyVerb();
VerbPtr makeGetVerb();
VerbPtr makeListVerb();
VerbPtr makeStatusVerb();
VerbPtr makeLogsVerb();  // logs_verb.cc
VerbPtr makeDeleteVerb();
VerbPtr makeSetVerb();
VerbPtr makeTerminateVerb();
VerbPtr makeAppVerb();  // app_verb.cc: ramp app list|get|diff|history|sync|refresh
std::vector<VerbPtr>
makeRolloutActionVerbs();  // promote, abort, retry, undo, pause, resume, restart

}  // namespace ramp::cli
