#pragma once

// Where a Kubernetes API server is and how to authenticate to it: a kubeconfig file (clusters,
// users, contexts, as kubectl reads it) or the in-cluster service account. Pure parsing with the
// file system injected, so every rule is a table test; loadKubeconfig() and inClusterConfig()
// are the thin shells that read real files.
//
// Supported credentials: client certificate and key (data or file), bearer token (inline or
// tokenFile, re-read by the client when it rotates). exec plugins and auth-providers are
// refused with a message naming the field and what to use instead. Every error names the file,
// line, column and field path.
//
// Thread safety: pure functions; the shells read files and the environment.

#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "ramp/error.h"

namespace ramp::kube {

struct ClusterConfig {
  std::string server;  // https://host:port (no trailing slash)
  std::string caPem;   // certificate-authority(-data); "" = the system's roots
  bool insecureSkipTlsVerify = false;
  std::string clientCertPem;  // client-certificate(-data)
  std::string clientKeyPem;   // client-key(-data); never printed
  std::string token;          // bearer token; never printed
  std::string tokenFile;      // re-read on every request batch (a rotated service-account token)
  std::string namespace_ = "default";  // the context's namespace
  std::string source;  // where it came from, for messages ("kubeconfig ~/.kube/config,
                       // context kind-ramp" or "in-cluster service account")
  bool operator==(const ClusterConfig&) const = default;
};

// Reads a file (certificate-authority, client-certificate, client-key, tokenFile) given as in
// the kubeconfig; relative paths are relative to the kubeconfig's directory (resolved by the
// caller of parseKubeconfig through this function's argument).
using FileReader = std::function<Result<std::string>(const std::string& path)>;

// Parses kubeconfig `text` (`file` names it in errors) and resolves `context` ("" = its
// current-context). Base64 *-data fields are decoded. Errors: kInvalidArgument with
// "file:line:column: path: message" (no current-context, an unknown context, cluster or user,
// bad base64, no server, an exec plugin or auth-provider); a FileReader error naming the field.
Result<ClusterConfig> parseKubeconfig(std::string_view text, std::string_view file,
                                      std::string_view context, const FileReader& readFile);

// Reads the kubeconfig at `path` ("" = $KUBECONFIG's first entry, else ~/.kube/config) and
// parses it as above, relative paths against its directory.
Result<ClusterConfig> loadKubeconfig(const std::string& path, std::string_view context);

// The in-cluster configuration from KUBERNETES_SERVICE_HOST/PORT (in `env`) and the service
// account directory (`readFile` of "<dir>/token", "ca.crt", "namespace"). Errors:
// kFailedPrecondition "not running in a cluster" when the variables are unset; the reader's
// errors.
Result<ClusterConfig> inClusterConfigFrom(const std::map<std::string, std::string>& env,
                                          const std::string& serviceAccountDir,
                                          const FileReader& readFile);

// inClusterConfigFrom with the process environment and
// /var/run/secrets/kubernetes.io/serviceaccount.
Result<ClusterConfig> inClusterConfig();

}  // namespace ramp::kube
