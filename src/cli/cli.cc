#include "cli/cli.h"

#include <ostream>

#include "cli/verb.h"

namespace ramp::cli {

int runCli(const std::vector<std::string>& args, IoStreams& io) {
  CLI::App app{"ramp: progressive delivery for services on plain hosts and Kubernetes", "ramp"};
  app.require_subcommand(1);
  std::vector<VerbPtr> verbs = builtinVerbs();
  std::vector<std::pair<CLI::App*, Verb*>> commands;
  for (VerbPtr& verb : verbs) {
    CLI::App* cmd = app.add_subcommand(verb->name(), verb->summary());
    verb->configure(*cmd);
    commands.emplace_back(cmd, verb.get());
  }
  // CLI11 parses in place from the back of the vector.
  std::vector<std::string> reversed(args.rbegin(), args.rend());
  try {
    app.parse(reversed);
  } catch (const CLI::CallForHelp& e) {
    io.out << app.help();
    return 0;
  } catch (const CLI::CallForAllHelp& e) {
    io.out << app.help("", CLI::AppFormatMode::All);
    return 0;
  } catch (const CLI::ParseError& e) {
    // Help for a subcommand is also reported as a ParseError with exit code 0.
    if (e.get_exit_code() == 0) {
      for (auto& [cmd, verb] : commands) {
        if (cmd->parsed()) {
          io.out << cmd->help();
          return 0;
        }
      }
      io.out << app.help();
      return 0;
    }
    io.err << "ramp: " << e.what() << "\n";
    return 2;
  }
  for (auto& [cmd, verb] : commands) {
    if (cmd->parsed()) return verb->run(io);
  }
  io.err << "ramp: no verb given (try --help)\n";
  return 2;
}

}  // namespace ramp::cli
