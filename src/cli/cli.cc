#include "cli/cli.h"

#include <algorithm>
#include <ostream>
#include <string>
#include <vector>

#include "cli/verb.h"

namespace ramp::cli {
namespace {

// Levenshtein distance, capped: enough to suggest "get" for "gte".
size_t editDistance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      cur[j] =
          std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    }
    prev.swap(cur);
  }
  return prev[b.size()];
}

}  // namespace

std::string unknownCommandMessage(const std::string& given, const std::vector<std::string>& verbs) {
  std::string out = "ramp: unknown command \"" + given.substr(0, 64) + "\" for \"ramp\"\n";
  std::vector<std::string> close;
  for (const std::string& v : verbs) {
    if (editDistance(given, v) <= 2 || (given.size() >= 3 && v.rfind(given, 0) == 0)) {
      close.push_back(v);
    }
  }
  if (!close.empty()) {
    out += "\nDid you mean this?\n";
    for (const std::string& v : close) out += "\t" + v + "\n";
  }
  out += "\nRun 'ramp --help' for usage.\n";
  return out;
}

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
  // `ramp help [VERB]` (kubectl's spelling of --help), and an unknown verb named as kubectl does.
  if (!args.empty() && !args[0].empty() && args[0][0] != '-') {
    std::vector<std::string> names;
    for (auto& [cmd, verb] : commands) names.push_back(verb->name());
    auto find = [&](const std::string& name) -> CLI::App* {
      for (auto& [cmd, verb] : commands) {
        if (verb->name() == name) return cmd;
      }
      return nullptr;
    };
    if (args[0] == "help") {
      if (args.size() == 1) {
        io.out << app.help();
        return 0;
      }
      if (CLI::App* cmd = find(args[1])) {
        io.out << cmd->help();
        return 0;
      }
      io.err << unknownCommandMessage(args[1], names);
      return 2;
    }
    if (find(args[0]) == nullptr) {
      io.err << unknownCommandMessage(args[0], names);
      return 2;
    }
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
