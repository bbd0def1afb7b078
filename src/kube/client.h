#pragma once

// Client: ramp's Kubernetes API client, on libcurl (common/http_client.h) and opaque JSON.
// Objects go in and come out as JSON text; the module that owns a kind decodes it. Every request
// passes the client-side rate limit (TokenBucket, Argo's --qps/--burst defaults 40/80: one
// bucket for argoproj.io's kinds and one for the rest, as Argo's two clientsets have, rateClass)
// and carries the cluster's credentials (client certificate, bearer token, or a token file
// re-read when it rotates). Every error names the verb, the resource and the HTTP status (wire.h,
// apiError).
//
// Optimistic concurrency: update() and updateStatus() send the object's
// metadata.resourceVersion; a stale one is kConflict, never a blind overwrite (retryOnConflict
// re-reads and retries). list() follows continue tokens to the end and restarts once when a
// token expires (410). watch() streams events until the server ends the watch; the caller
// resumes from the last resourceVersion it saw and relists on a 410 (isGone).
//
// Thread safety: every method may be called from any thread at once; each request uses its own
// connection. The Clock must outlive the client.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "kube/kubeconfig.h"
#include "kube/rate_limiter.h"
#include "kube/resources.h"
#include "kube/wire.h"
#include "ramp/clock.h"
#include "ramp/error.h"

namespace ramp::kube {

// Which token bucket a request to `path` ("/apis/argoproj.io/v1alpha1/…") takes: 1 for the
// argoproj.io group, 0 for everything else. Argo Rollouts' controller makes its Kubernetes
// clientset and its argoproj.io clientset from one rest.Config with --qps/--burst, and each
// clientset makes its own token bucket from them (cmd/rollouts-controller/main.go; client-go's
// NewForConfigAndClient), so its Rollout and AnalysisRun writes never wait behind its
// ReplicaSet, Pod, Service and Event requests, nor these behind those. The flags mean the same
// here.
int rateClass(std::string_view path);

struct ClientOptions {
  double qps = 40;  // Argo Rollouts' --qps, for each rateClass
  int burst = 80;   // Argo Rollouts' --burst, likewise
  // One request. A watch: connecting, and a silence of its timeoutSeconds plus this (the server
  // ends a watch at its timeoutSeconds; a watch of a kind where nothing happens is silent until
  // then, and a dead connection is noticed sooner by TCP keep-alive).
  Duration timeout = Duration(30000);
  std::string userAgent = "ramp";
  std::string fieldManager = "ramp";  // server-side apply and managedFields
};

enum class PatchType {
  kMerge,           // application/merge-patch+json (RFC 7386)
  kJson,            // application/json-patch+json (RFC 6902)
  kStrategicMerge,  // application/strategic-merge-patch+json (built-in kinds only)
  kApply,           // application/apply-patch+yaml: server-side apply as fieldManager (force)
};

struct ListResult {
  std::vector<std::string> items;  // JSON text of each object
  std::string resourceVersion;     // of the list: start a watch from it
};

class Client {
 public:
  // Errors: kInvalidArgument for a config without a server.
  static Result<std::unique_ptr<Client>> create(ClusterConfig config, Clock& clock,
                                                ClientOptions options = {});

  // What it was made with.
  const ClientOptions& options() const { return options_; }

  // GET one object. kNotFound when it does not exist.
  Result<std::string> get(const ResourceType& type, std::string_view ns, std::string_view name);

  // Every object of the collection (ns "" = all namespaces of a namespaced kind), page by page.
  Result<ListResult> list(const ResourceType& type, std::string_view ns, ListOptions options = {});

  // POST: creates `json` and returns the stored object. kAlreadyExists when the name is taken.
  Result<std::string> create(const ResourceType& type, std::string_view ns, std::string_view json);

  // PUT of the whole object (its metadata.resourceVersion is the precondition). kConflict when
  // it changed since it was read; kNotFound.
  Result<std::string> update(const ResourceType& type, std::string_view ns, std::string_view name,
                             std::string_view json);

  // PUT of the status subresource, with the same precondition.
  Result<std::string> updateStatus(const ResourceType& type, std::string_view ns,
                                   std::string_view name, std::string_view json);

  // PATCH (of `subresource` when given: "status", "scale"). Returns the stored object.
  Result<std::string> patch(const ResourceType& type, std::string_view ns, std::string_view name,
                            PatchType patchType, std::string_view body,
                            std::string_view subresource = "");

  // DELETE. With `foreground`, dependents (owned objects) go first. kNotFound when absent.
  Status remove(const ResourceType& type, std::string_view ns, std::string_view name,
                bool foreground = false);

  // DELETE only if the object is still at `resourceVersion` (DeleteOptions.preconditions):
  // kConflict when it changed, kNotFound when absent. Returns the server's reply: the deleted
  // object as last stored, its resourceVersion the delete's (or, with finalizers, the object
  // marked for deletion).
  Result<std::string> removeAt(const ResourceType& type, std::string_view ns, std::string_view name,
                               std::string_view resourceVersion);

  // Streams the watch's events to `onEvent` until it returns false, the server ends the watch
  // (then returns success: resume from the last resourceVersion seen), or an error: the
  // request's (isGone() for an expired resourceVersion, in the response or as an ERROR event
  // with code 410) or kParse for a malformed stream.
  // `keepGoing` (optional) is asked about once a second; false ends the watch (kCancelled).
  Status watch(const ResourceType& type, std::string_view ns, WatchOptions options,
               const std::function<bool(const WatchEvent&)>& onEvent,
               std::function<bool()> keepGoing = nullptr);

  // GET of any path (discovery: "/apis", "/readyz"). Returns the body.
  Result<std::string> getPath(const std::string& path);

  // Requests sent since create(), for /metrics and the benchmarks.
  int64_t requests() const { return requests_.load(); }

  const ClusterConfig& config() const { return config_; }

 private:
  Client(ClusterConfig config, Clock& clock, ClientOptions options);

  struct Call {
    std::string verb;      // for messages: "get", "list", "update", …
    std::string resource;  // for messages: describe(type, ns, name)
    std::string method;
    std::string path;  // with the query
    std::string body;
    std::string contentType;
    Duration timeout{0};  // 0: ClientOptions::timeout
  };
  Result<std::string> send(const Call& call,
                           const std::function<bool(std::string_view)>& onBody = nullptr,
                           std::function<bool()> keepGoing = nullptr);
  Result<std::string> bearerToken();

  ClusterConfig config_;
  Clock& clock_;
  ClientOptions options_;
  TokenBucket buckets_[2];  // by rateClass
  std::atomic<int64_t> requests_{0};
  std::mutex tokenMu_;
  std::string token_;  // the token file's content as last read
  Time tokenReadAt_{};
};

// Runs `attempt` (which reads the object, changes it and writes it) until it does not return
// kConflict, at most `attempts` times (client-go's RetryOnConflict). Returns its last result.
Result<std::string> retryOnConflict(int attempts,
                                    const std::function<Result<std::string>()>& attempt);

}  // namespace ramp::kube
