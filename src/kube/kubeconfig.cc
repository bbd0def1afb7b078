#include "kube/kubeconfig.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/base64.h"
#include "ramp/spec/diagnostic.h"
#include "spec/tree.h"

namespace ramp::kube {
namespace {

using spec::TreeEntry;
using spec::TreeNode;

// An error at a node: "file:line:column: path: message".
std::unexpected<Error> at(std::string_view file, const TreeNode* node, const std::string& path,
                          const std::string& message) {
  spec::Diagnostic d;
  d.file = std::string(file);
  if (node != nullptr) {
    d.line = node->line;
    d.column = node->column;
  }
  d.path = path;
  d.message = message;
  return makeError(ErrorCode::kInvalidArgument, spec::formatDiagnostic(d));
}

// The string at `key` of map `node` ("" when absent). Errors when present but not a scalar.
Result<std::string> stringAt(std::string_view file, const TreeNode& node, std::string_view key,
                             const std::string& path) {
  const TreeEntry* e = spec::findEntry(node, key);
  if (e == nullptr || e->value.type == TreeNode::Type::kNull) return std::string();
  if (e->value.type == TreeNode::Type::kSeq || e->value.type == TreeNode::Type::kMap) {
    return at(file, &e->value, path + "." + std::string(key), "must be a string");
  }
  return e->value.text;
}

// The entry of list `listKey` whose `name` is `name`, and its index; the value under
// `innerKey` (cluster, user, context) must be a map.
struct Found {
  const TreeNode* value = nullptr;
  std::string path;
};
Result<Found> findNamed(std::string_view file, const TreeNode& root, std::string_view listKey,
                        std::string_view innerKey, const std::string& name,
                        const TreeNode* referrer, const std::string& referrerPath) {
  const TreeEntry* list = spec::findEntry(root, listKey);
  if (list != nullptr && list->value.type == TreeNode::Type::kSeq) {
    for (size_t i = 0; i < list->value.items.size(); ++i) {
      const TreeNode& item = list->value.items[i];
      std::string path = std::string(listKey) + "[" + std::to_string(i) + "]";
      if (item.type != TreeNode::Type::kMap) return at(file, &item, path, "must be a map");
      auto n = stringAt(file, item, "name", path);
      if (!n) return std::unexpected(n.error());
      if (*n != name) continue;
      const TreeEntry* inner = spec::findEntry(item, innerKey);
      if (inner == nullptr || inner->value.type != TreeNode::Type::kMap) {
        return at(file, inner ? &inner->value : &item, path + "." + std::string(innerKey),
                  "must be a map");
      }
      return Found{&inner->value, path + "." + std::string(innerKey)};
    }
  } else if (list != nullptr && list->value.type != TreeNode::Type::kNull) {
    return at(file, &list->value, std::string(listKey), "must be a list");
  }
  return at(file, referrer, referrerPath,
            "no " + std::string(innerKey) + " named \"" + name + "\" in " + std::string(listKey));
}

// A PEM field given inline (*-data, base64) or as a file.
Result<std::string> pemField(std::string_view file, const TreeNode& node, const std::string& path,
                             std::string_view key, const FileReader& readFile) {
  std::string dataKey = std::string(key) + "-data";
  auto data = stringAt(file, node, dataKey, path);
  if (!data) return std::unexpected(data.error());
  if (!data->empty()) {
    auto decoded = decodeBase64(*data);
    if (!decoded) {
      return at(file, &spec::findEntry(node, dataKey)->value, path + "." + dataKey,
                "is not base64");
    }
    return decoded;
  }
  auto name = stringAt(file, node, key, path);
  if (!name) return std::unexpected(name.error());
  if (name->empty()) return std::string();
  auto content = readFile(*name);
  if (!content) {
    return at(file, &spec::findEntry(node, key)->value, path + "." + std::string(key),
              content.error().message);
  }
  return content;
}

}  // namespace

Result<ClusterConfig> parseKubeconfig(std::string_view text, std::string_view file,
                                      std::string_view context, const FileReader& readFile) {
  spec::TreeOutput loaded = spec::loadTree(text, file);
  if (loaded.failed) {
    return makeError(ErrorCode::kInvalidArgument,
                     loaded.diagnostics.empty() ? std::string(file) + ": not YAML"
                                                : spec::formatDiagnostic(loaded.diagnostics[0]));
  }
  if (loaded.documents.size() != 1 || loaded.documents[0].type != TreeNode::Type::kMap) {
    return at(file, loaded.documents.empty() ? nullptr : &loaded.documents[0], "",
              "a kubeconfig is one YAML map (kind: Config)");
  }
  const TreeNode& root = loaded.documents[0];
  std::string contextName(context);
  const TreeNode* referrer = &root;
  std::string referrerPath = "current-context";
  if (contextName.empty()) {
    auto current = stringAt(file, root, "current-context", "");
    if (!current) return std::unexpected(current.error());
    if (current->empty()) {
      return at(file, &root, "current-context", "is not set: name a context (--context)");
    }
    contextName = *current;
    referrer = &spec::findEntry(root, "current-context")->value;
  } else {
    referrerPath = "--context";
  }
  auto ctx = findNamed(file, root, "contexts", "context", contextName, referrer, referrerPath);
  if (!ctx) return std::unexpected(ctx.error());
  auto clusterName = stringAt(file, *ctx->value, "cluster", ctx->path);
  auto userName = stringAt(file, *ctx->value, "user", ctx->path);
  auto ns = stringAt(file, *ctx->value, "namespace", ctx->path);
  if (!clusterName) return std::unexpected(clusterName.error());
  if (!userName) return std::unexpected(userName.error());
  if (!ns) return std::unexpected(ns.error());
  if (clusterName->empty()) return at(file, ctx->value, ctx->path + ".cluster", "is not set");

  ClusterConfig c;
  c.source = "kubeconfig " + std::string(file) + ", context " + contextName;
  if (!ns->empty()) c.namespace_ = *ns;

  auto cluster = findNamed(file, root, "clusters", "cluster", *clusterName, ctx->value,
                           ctx->path + ".cluster");
  if (!cluster) return std::unexpected(cluster.error());
  auto server = stringAt(file, *cluster->value, "server", cluster->path);
  if (!server) return std::unexpected(server.error());
  if (server->empty()) return at(file, cluster->value, cluster->path + ".server", "is not set");
  if (!server->starts_with("https://") && !server->starts_with("http://")) {
    return at(file, &spec::findEntry(*cluster->value, "server")->value, cluster->path + ".server",
              "must be an http(s):// URL");
  }
  c.server = *server;
  while (c.server.ends_with("/")) c.server.pop_back();
  if (const TreeEntry* e = spec::findEntry(*cluster->value, "insecure-skip-tls-verify")) {
    if (e->value.type != TreeNode::Type::kBool) {
      return at(file, &e->value, cluster->path + ".insecure-skip-tls-verify", "must be a boolean");
    }
    c.insecureSkipTlsVerify = e->value.boolean;
  }
  auto ca = pemField(file, *cluster->value, cluster->path, "certificate-authority", readFile);
  if (!ca) return std::unexpected(ca.error());
  c.caPem = *ca;

  if (userName->empty()) return c;  // anonymous
  auto user = findNamed(file, root, "users", "user", *userName, ctx->value, ctx->path + ".user");
  if (!user) return std::unexpected(user.error());
  if (const TreeEntry* e = spec::findEntry(*user->value, "exec")) {
    return at(file, &e->value, user->path + ".exec",
              "exec credential plugins are not supported by ramp: give the user a client "
              "certificate (client-certificate-data, client-key-data) or a token (token, "
              "tokenFile)");
  }
  if (const TreeEntry* e = spec::findEntry(*user->value, "auth-provider")) {
    return at(file, &e->value, user->path + ".auth-provider",
              "auth-provider plugins are not supported by ramp: give the user a client "
              "certificate or a token");
  }
  if (spec::findEntry(*user->value, "username") || spec::findEntry(*user->value, "password")) {
    return at(file, user->value, user->path + ".username",
              "basic authentication was removed from Kubernetes: use a client certificate or a "
              "token");
  }
  auto cert = pemField(file, *user->value, user->path, "client-certificate", readFile);
  if (!cert) return std::unexpected(cert.error());
  auto key = pemField(file, *user->value, user->path, "client-key", readFile);
  if (!key) return std::unexpected(key.error());
  if (cert->empty() != key->empty()) {
    return at(file, user->value, user->path,
              "client-certificate and client-key go together: give both or neither");
  }
  c.clientCertPem = *cert;
  c.clientKeyPem = *key;
  auto token = stringAt(file, *user->value, "token", user->path);
  if (!token) return std::unexpected(token.error());
  c.token = *token;
  auto tokenFile = stringAt(file, *user->value, "tokenFile", user->path);
  if (!tokenFile) return std::unexpected(tokenFile.error());
  c.tokenFile = *tokenFile;
  return c;
}

namespace {

Result<std::string> readWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return makeError(ErrorCode::kNotFound, "cannot read " + path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

Result<ClusterConfig> loadKubeconfig(const std::string& path, std::string_view context) {
  std::string file = path;
  if (file.empty()) {
    if (const char* env = std::getenv("KUBECONFIG"); env != nullptr && *env != '\0') {
      file = std::string(env).substr(0, std::string(env).find(':'));
    } else if (const char* home = std::getenv("HOME")) {
      file = std::string(home) + "/.kube/config";
    }
  }
  auto text = readWholeFile(file);
  if (!text) return makeError(ErrorCode::kNotFound, "kubeconfig: " + text.error().message);
  std::filesystem::path dir = std::filesystem::path(file).parent_path();
  auto reader = [&](const std::string& p) -> Result<std::string> {
    std::filesystem::path f(p);
    if (f.is_relative()) f = dir / f;
    auto content = readWholeFile(f.string());
    if (!content) return std::unexpected(content.error());
    return content;
  };
  auto c = parseKubeconfig(*text, file, context, reader);
  if (c && !c->tokenFile.empty() && std::filesystem::path(c->tokenFile).is_relative()) {
    c->tokenFile = (dir / c->tokenFile).string();
  }
  return c;
}

Result<ClusterConfig> inClusterConfigFrom(const std::map<std::string, std::string>& env,
                                          const std::string& serviceAccountDir,
                                          const FileReader& readFile) {
  auto host = env.find("KUBERNETES_SERVICE_HOST");
  auto port = env.find("KUBERNETES_SERVICE_PORT");
  if (host == env.end() || port == env.end() || host->second.empty() || port->second.empty()) {
    return makeError(ErrorCode::kFailedPrecondition,
                     "not running in a cluster (KUBERNETES_SERVICE_HOST and "
                     "KUBERNETES_SERVICE_PORT are unset): give --kubeconfig");
  }
  ClusterConfig c;
  std::string h = host->second;
  if (h.find(':') != std::string::npos) h = "[" + h + "]";  // IPv6
  c.server = "https://" + h + ":" + port->second;
  c.source = "in-cluster service account";
  c.tokenFile = serviceAccountDir + "/token";
  auto token = readFile(c.tokenFile);
  if (!token) return std::unexpected(token.error());
  auto ca = readFile(serviceAccountDir + "/ca.crt");
  if (!ca) return std::unexpected(ca.error());
  c.caPem = *ca;
  if (auto ns = readFile(serviceAccountDir + "/namespace"); ns && !ns->empty()) {
    c.namespace_ = *ns;
    while (!c.namespace_.empty() && (c.namespace_.back() == '\n' || c.namespace_.back() == ' ')) {
      c.namespace_.pop_back();
    }
  }
  return c;
}

Result<ClusterConfig> inClusterConfig() {
  std::map<std::string, std::string> env;
  for (const char* name : {"KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT"}) {
    if (const char* v = std::getenv(name)) env[name] = v;
  }
  return inClusterConfigFrom(env, "/var/run/secrets/kubernetes.io/serviceaccount", readWholeFile);
}

}  // namespace ramp::kube
