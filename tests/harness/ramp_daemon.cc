#include "harness/ramp_daemon.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

namespace ramp::testing {
namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

CliResult runRamp(const TempDir& dir, const std::vector<std::string>& args,
                  const std::string& server, const std::string& token) {
  std::string cmd = "env -u RAMP_CONFIG -u RAMP_TOKEN -u RAMP_SERVER HOME=" + dir.path();
  if (!server.empty()) cmd += " RAMP_SERVER=" + server;
  if (!token.empty()) cmd += " RAMP_TOKEN=" + token;
  cmd += " " + binaryDir() + "/ramp";
  for (const std::string& a : args) cmd += " '" + a + "'";
  cmd += " >" + dir.file("cli.out") + " 2>" + dir.file("cli.err");
  const int status = std::system(cmd.c_str());
  CliResult r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = slurp(dir.file("cli.out"));
  r.err = slurp(dir.file("cli.err"));
  return r;
}

RampDaemon::RampDaemon(const TempDir& dir, const std::vector<std::string>& extra) {
  ProcessOptions o;
  o.argv = {binaryDir() + "/ramp", "serve", "--data", dir.file("data"), "--listen", "127.0.0.1:0"};
  o.argv.insert(o.argv.end(), extra.begin(), extra.end());
  o.logFile = dir.file("serve.log");
  auto p = Process::start(o);
  if (!p) {
    ADD_FAILURE() << p.error().message;
    return;
  }
  process_ = std::move(*p);
  for (int i = 0; i < 400 && url_.empty() && process_->running(); ++i) {
    const std::string log = process_->log();
    const size_t at = log.find("listening on ");
    if (at != std::string::npos) {
      url_ = log.substr(at + 13, log.find_first_of(" \n", at + 13) - at - 13);
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  if (url_.empty()) ADD_FAILURE() << "ramp serve did not start:\n" << process_->log();
}

ReplicaReaper::~ReplicaReaper() {
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dataDir_, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (it->path().extension() != ".pid") continue;
    std::ifstream in(it->path());
    auto j = nlohmann::json::parse(in, nullptr, false);
    int pid = j.is_object() ? j.value("pid", 0) : 0;
    if (pid > 1) {
      ::kill(-pid, SIGKILL);  // the replica's process group
      ::kill(pid, SIGKILL);
    }
  }
}

}  // namespace ramp::testing
