// The signature gate's place in `ramp serve` (see serve.h, docs/supply-chain.md): the policy file
// and the registry credentials are read once at start; the controller asks the verifier about
// the images of every revision before it creates it.

#include "cli/serve.h"
#include "common/file_io.h"
#include "supply/registry_image_verifier.h"

namespace ramp::cli {

void configureImagePolicyFlags(CLI::App& cmd, ServeOptions& options) {
  cmd.add_option("--image-policy", options.imagePolicy,
                 "Verify the cosign signature of every image before a revision starts, as this "
                 "file of ClusterImagePolicy documents says (docs/supply-chain.md); without it no "
                 "image is checked");
  cmd.add_option("--image-policy-no-match", options.imagePolicyNoMatch,
                 "What happens to an image no ClusterImagePolicy matches")
      ->capture_default_str()
      ->check(CLI::IsMember({"deny", "allow"}));
  cmd.add_option("--registry-credentials", options.registryCredentials,
                 "Registry credentials for the signature checks: a Docker config.json "
                 "(auths.<registry>.auth or username/password; no credential helpers)");
  cmd.add_option("--trusted-root", options.trustedRoots,
                 "A Sigstore trusted_root.json for keyless authorities, pinned: FILE is the "
                 "default, NAME=FILE the root a keyless.trustRootRef NAME names (repeatable); "
                 "never refreshed from TUF or the network");
}

Result<std::unique_ptr<supply::ImageVerifier>> makeImageVerifier(const ServeOptions& options) {
  if (options.imagePolicy.empty()) {
    if (!options.registryCredentials.empty() || !options.trustedRoots.empty()) {
      return makeError(ErrorCode::kInvalidArgument,
                       std::string(options.registryCredentials.empty() ? "--trusted-root"
                                                                       : "--registry-credentials") +
                           " is only read for the signature checks: it needs --image-policy");
    }
    return nullptr;
  }
  auto policies = supply::RegistryImageVerifier::loadPolicies(options.imagePolicy);
  if (!policies) {
    return makeError(policies.error().code, "--image-policy: " + policies.error().message);
  }
  supply::TrustedRoots roots;
  for (const std::string& flag : options.trustedRoots) {
    size_t eq = flag.find('=');
    std::string name = eq == std::string::npos ? "" : flag.substr(0, eq);
    std::string path = eq == std::string::npos ? flag : flag.substr(eq + 1);
    if (roots.contains(name)) {
      return makeError(
          ErrorCode::kInvalidArgument,
          "--trusted-root: " + (name.empty() ? std::string("two default roots (FILE without NAME=)")
                                             : "the name " + name + " given twice"));
    }
    auto root = supply::loadTrustedRoot(path);
    if (!root) return makeError(root.error().code, "--trusted-root: " + root.error().message);
    roots[name] = std::move(*root);
  }
  if (auto ok = supply::bindTrustedRoots(*policies, roots); !ok) {
    return makeError(ok.error().code, "--image-policy: " + ok.error().message);
  }
  supply::OciClient::Options client;
  if (!options.registryCredentials.empty()) {
    auto text = readFileIfExists(options.registryCredentials);
    if (!text) {
      return makeError(text.error().code, "--registry-credentials: " + text.error().message);
    }
    if (!*text) {
      return makeError(ErrorCode::kNotFound,
                       "--registry-credentials: " + options.registryCredentials + ": no such file");
    }
    auto credentials = supply::parseDockerConfig(**text);
    if (!credentials) {
      return makeError(credentials.error().code,
                       "--registry-credentials: " + options.registryCredentials + ": " +
                           credentials.error().message);
    }
    client.credentialsByRegistry = std::move(*credentials);
  }
  const auto noMatch =
      options.imagePolicyNoMatch == "allow" ? supply::NoMatch::kAllow : supply::NoMatch::kDeny;
  return std::make_unique<supply::RegistryImageVerifier>(std::move(*policies), std::move(client),
                                                         noMatch);
}

}  // namespace ramp::cli
