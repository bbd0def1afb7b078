#include "common/compact_text.h"

#include <zlib.h>

#include <algorithm>
#include <limits>

namespace ramp {
namespace {

// What the objects ramp caches repeat, most frequent last (deflate finds the nearest match
// cheapest). Any text compresses with it; these compress to a fifth.
constexpr std::string_view kDictionary =
    R"({"apiVersion":"v1","kind":"ConfigMap","type":"Normal","reason":"","message":"",)"
    R"("lastTransitionTime":"","lastUpdateTime":"","status":"True","status":"False",)"
    R"("conditions":[{"type":"Available","type":"Progressing","type":"Ready",)"
    R"("imagePullPolicy":"IfNotPresent","terminationMessagePath":"/dev/termination-log",)"
    R"("terminationMessagePolicy":"File","restartPolicy":"Always","dnsPolicy":"ClusterFirst",)"
    R"("schedulerName":"default-scheduler","securityContext":{},"resources":{},)"
    R"("terminationGracePeriodSeconds":30,"protocol":"TCP","containerPort":)"
    R"("apiVersion":"apps/v1","kind":"ReplicaSet","kind":"Deployment",)"
    R"("observedGeneration":,"fullyLabeledReplicas":,"availableReplicas":,"readyReplicas":,)"
    R"("ownerReferences":[{"apiVersion":"argoproj.io/v1alpha1","kind":"Rollout",)"
    R"("blockOwnerDeletion":true,"controller":true,"uid":"","name":"",)"
    R"("rollout.argoproj.io/desired-replicas":"","rollout.argoproj.io/revision":"",)"
    R"("argo-rollouts.argoproj.io/controller-instance-id":"",)"
    R"("stableRS":"","currentPodHash":"","currentStepHash":"","currentStepIndex":,)"
    R"("phase":"Healthy","phase":"Progressing","phase":"Paused","message":"",)"
    R"("canary":{"steps":[{"setWeight":},{"pause":{"duration":""}}]},"blueGreen":{)"
    R"("strategy":{"selector":{"matchLabels":{"app":""}},"template":{"metadata":{"labels":)"
    R"("spec":{"replicas":,"containers":[{"name":"","image":"","ports":[{"containerPort":)"
    R"("status":{"replicas":,"updatedReplicas":,"readyReplicas":,"availableReplicas":,)"
    R"("metadata":{"name":"","namespace":"","uid":"","resourceVersion":"","generation":,)"
    R"("creationTimestamp":"","labels":{"rollouts-pod-template-hash":""},"annotations":{)"
    R"("apiVersion":"argoproj.io/v1alpha1","kind":"Rollout","metadata":{"name":")";

// An 8 KiB window (the objects are a few KiB, and the dictionary must stay in reach) and a
// small hash table: a deflate stream then takes ~64 KiB, an inflate stream ~8 KiB.
constexpr int kWindowBits = 13;
constexpr int kMemLevel = 6;

// A deflate and an inflate stream per thread, reset between uses: making one allocates its
// window and tables, which would cost more than compressing a small object.
struct Deflater {
  z_stream z{};
  bool ok = false;
  Deflater() {
    // Raw deflate (negative window bits: no header or checksum, the bytes never leave memory).
    ok = deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -kWindowBits, kMemLevel,
                      Z_DEFAULT_STRATEGY) == Z_OK;
  }
  ~Deflater() {
    if (ok) deflateEnd(&z);
  }
};
struct Inflater {
  z_stream z{};
  bool ok = false;
  Inflater() { ok = inflateInit2(&z, -kWindowBits) == Z_OK; }
  ~Inflater() {
    if (ok) inflateEnd(&z);
  }
};

const Bytef* dictionary() { return reinterpret_cast<const Bytef*>(kDictionary.data()); }

}  // namespace

CompactText::CompactText(std::string_view text)
    : size_(static_cast<uint32_t>(
          std::min<size_t>(text.size(), std::numeric_limits<uint32_t>::max()))) {
  thread_local Deflater d;
  if (text.empty() || text.size() > std::numeric_limits<uint32_t>::max() || !d.ok ||
      deflateReset(&d.z) != Z_OK ||
      deflateSetDictionary(&d.z, dictionary(), static_cast<uInt>(kDictionary.size())) != Z_OK) {
    bytes_.assign(text);
    return;
  }
  std::string out(deflateBound(&d.z, static_cast<uLong>(text.size())), '\0');
  d.z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  d.z.avail_in = static_cast<uInt>(text.size());
  d.z.next_out = reinterpret_cast<Bytef*>(out.data());
  d.z.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&d.z, Z_FINISH);
  const size_t produced = out.size() - d.z.avail_out;
  if (rc != Z_STREAM_END || produced >= text.size()) {
    bytes_.assign(text);
    return;
  }
  out.resize(produced);
  out.shrink_to_fit();
  bytes_ = std::move(out);
  deflated_ = true;
}

std::string CompactText::text() const {
  if (!deflated_) return bytes_;
  thread_local Inflater i;
  if (!i.ok || inflateReset(&i.z) != Z_OK ||
      inflateSetDictionary(&i.z, dictionary(), static_cast<uInt>(kDictionary.size())) != Z_OK) {
    return {};
  }
  std::string out(size_, '\0');
  i.z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes_.data()));
  i.z.avail_in = static_cast<uInt>(bytes_.size());
  i.z.next_out = reinterpret_cast<Bytef*>(out.data());
  i.z.avail_out = static_cast<uInt>(out.size());
  const int rc = inflate(&i.z, Z_FINISH);
  // Only this class wrote the stream, into memory no one else touches: it always inflates.
  return rc == Z_STREAM_END && i.z.avail_out == 0 ? out : std::string();
}

}  // namespace ramp
