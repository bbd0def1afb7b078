#include "supply/cosign_cli.h"

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "harness/harness.h"

namespace ramp::supply::testing {

int runShell(const std::string& cmd, std::string* out) {
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  if (p == nullptr) return -1;
  std::array<char, 4096> buf{};
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) out->append(buf.data(), n);
  int status = ::pclose(p);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string cosignBinary() {
  std::string out;
  if (runShell("'" + ramp::testing::sourceDir() + "/scripts/cosign.sh' bin", &out) != 0) {
    return "";
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

std::string cosignEnv(const std::string& dir) {
  return "cd '" + dir + "' && HOME='" + dir +
         "' COSIGN_PASSWORD=test-password HTTPS_PROXY=http://127.0.0.1:9 "
         "HTTP_PROXY=http://127.0.0.1:9 NO_PROXY=127.0.0.1 ";
}

Result<audit::VerifyingKey> generateKeyPair(const std::string& cosign, const std::string& dir) {
  std::string out;
  if (runShell(cosignEnv(dir) + "'" + cosign + "' generate-key-pair", &out) != 0) {
    return makeError(ErrorCode::kInternal, "cosign generate-key-pair: " + out);
  }
  std::ifstream pubFile(dir + "/cosign.pub");
  std::stringstream pem;
  pem << pubFile.rdbuf();
  return audit::VerifyingKey::fromPem(pem.str());
}

std::string cosignSignCommand(const std::string& cosign, const std::string& dir, bool legacy) {
  return cosignEnv(dir) + "'" + cosign +
         "' sign --key cosign.key --use-signing-config=false --tlog-upload=false -y " +
         (legacy ? "--new-bundle-format=false " : "");
}

std::string cosignAttestCommand(const std::string& cosign, const std::string& dir,
                                const std::string& type, const std::string& predicate) {
  return cosignEnv(dir) + "'" + cosign +
         "' attest --key cosign.key --use-signing-config=false --tlog-upload=false -y --type " +
         type + " --predicate '" + predicate + "' ";
}

std::string keyPolicyYaml(const std::string& name, const std::string& glob,
                          const std::string& format, const std::string& pubPem) {
  std::string key;
  std::istringstream lines(pubPem);
  for (std::string line; std::getline(lines, line);) key += "        " + line + "\n";
  return "apiVersion: policy.sigstore.dev/v1beta1\nkind: ClusterImagePolicy\nmetadata:\n  name: " +
         name + "\nspec:\n  images:\n  - glob: \"" + glob +
         "\"\n  authorities:\n  - name: release-key\n    signatureFormat: " + format +
         "\n    key:\n      data: |\n" + key;
}

}  // namespace ramp::supply::testing
