// Input: a Git commit message (any bytes) -> gitops/change.h. Checks: no crash; a pull request
// is digits or a GitLab reference of at most 256 characters; every approver is a trailer value
// found in the message; the change record is valid JSON naming the commit.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>

#include "gitops/change.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string message(reinterpret_cast<const char*>(data), size);
  ramp::gitops::ReviewFacts facts = ramp::gitops::reviewFacts(message);
  if (facts.pullRequest.size() > 256) std::abort();
  for (const std::string& who : facts.approvers) {
    if (who.empty() || message.find(who) == std::string::npos) std::abort();
  }
  ramp::spec::Application app;
  app.spec.source.repoURL = "https://user:secret@git.example/x.git";
  ramp::gitops::GitCommitInfo commit{std::string(40, 'a'), "", "", message};
  auto record = nlohmann::json::parse(ramp::gitops::changeRecord(app, commit), nullptr, false);
  if (!record.is_object() || record["revision"] != commit.sha) std::abort();
  if (record["repo"] != "https://git.example/x.git") std::abort();
  return 0;
}
