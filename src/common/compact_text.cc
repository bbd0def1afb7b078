#include "common/compact_text.h"

#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>

#include "common/idle_pool.h"

namespace ramp {
namespace {

// What the objects ramp caches repeat, most frequent last (deflate finds the nearest match
// cheapest). Any text compresses with it; these compress to a fifth. First, farthest: the
// Kubernetes store's event bodies (object_mirror.cc, eventBody: keys in nlohmann's order) with
// the reasons and messages of Argo's events, which halve a ~170-byte event's deflated size
// (115 → 58 bytes for a ScalingReplicaSet) and take a few bytes off a Rollout's status.
constexpr std::string_view kDictionary =
    R"j({"a":"controller","c":1,"e":{},"f":,"m":"","n":"","p":0,"r":"","y":0})j"
    R"j("podTemplateHash":"","previousStable":"","reason":"Initial deploy","revision":"",)j"
    R"j("r":"RolloutUpdated","m":"Rollout updated to revision ",)j"
    R"j("r":"NewReplicaSetCreated","m":"Created ReplicaSet ",)j"
    R"j("r":"ScalingReplicaSet","m":"Scaled up ReplicaSet "," (revision ",") from 0 to 1",)j"
    R"j("m":"Scaled down ReplicaSet ","r":"RolloutNotCompleted",)j"
    R"j("m":"Rollout not completed, started update to revision ",)j"
    R"j("r":"RolloutStepCompleted","m":"Rollout step ","completed (setWeight: ",)j"
    R"j("completed (pause: ","r":"RolloutPaused","m":"Rollout is paused (CanaryPauseStep)",)j"
    R"j("r":"RolloutResumed","m":"Rollout is resumed","r":"RolloutCompleted",)j"
    R"j("m":"Rollout completed update to revision ","Completed all "," canary steps",)j"
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

// Deflate and inflate streams, reset between uses: making one allocates its window and tables,
// which would cost more than compressing a small object. Each use borrows one from a pool
// (common/idle_pool.h; a stream per thread, as before, kept one for every thread that ever
// compressed: ~64 KiB each for the twenty-odd threads of a Kubernetes controller).
struct Deflater {
  z_stream z{};
  bool ok = false;
  std::string out;  // the deflated bytes, kept between texts up to kKeptBuffer
  Deflater() {
    // Raw deflate (negative window bits: no header or checksum, the bytes never leave memory).
    ok = deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -kWindowBits, kMemLevel,
                      Z_DEFAULT_STRATEGY) == Z_OK;
  }
  ~Deflater() {
    if (ok) deflateEnd(&z);
  }
  Deflater(const Deflater&) = delete;
  Deflater& operator=(const Deflater&) = delete;
};
struct Inflater {
  z_stream z{};
  bool ok = false;
  Inflater() { ok = inflateInit2(&z, -kWindowBits) == Z_OK; }
  ~Inflater() {
    if (ok) inflateEnd(&z);
  }
  Inflater(const Inflater&) = delete;
  Inflater& operator=(const Inflater&) = delete;
};

// The streams kept while no text is being made or read (IdlePool).
constexpr size_t kIdleStreams = 2;

IdlePool<Deflater>& deflaters() {
  // Never destroyed: used until exit.
  static auto* pool =
      new IdlePool<Deflater>(kIdleStreams, [] { return std::make_unique<Deflater>(); });
  return *pool;
}
IdlePool<Inflater>& inflaters() {
  static auto* pool =
      new IdlePool<Inflater>(kIdleStreams, [] { return std::make_unique<Inflater>(); });
  return *pool;
}

// The deflate buffer is kept between texts up to this size.
constexpr size_t kKeptBuffer = size_t{64} * 1024;

const Bytef* dictionary() { return reinterpret_cast<const Bytef*>(kDictionary.data()); }

}  // namespace

void CompactText::keep(std::string_view bytes) {
  compactSize_ = static_cast<uint32_t>(bytes.size());
  if (bytes.empty()) return;
  bytes_ = std::make_unique_for_overwrite<char[]>(bytes.size());
  std::memcpy(bytes_.get(), bytes.data(), bytes.size());
}

CompactText::CompactText(std::string_view text) {
  if (text.size() > std::numeric_limits<uint32_t>::max()) {
    throw std::length_error("CompactText: a text of 4 GiB or more");
  }
  if (text.empty()) return;
  IdlePool<Deflater>::Lease lease(deflaters());
  Deflater& d = *lease;
  size_ = static_cast<uint32_t>(text.size());
  if (!d.ok || deflateReset(&d.z) != Z_OK ||
      deflateSetDictionary(&d.z, dictionary(), static_cast<uInt>(kDictionary.size())) != Z_OK) {
    keep(text);
    return;
  }
  std::string& out = d.out;
  out.resize(deflateBound(&d.z, static_cast<uLong>(text.size())));
  d.z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  d.z.avail_in = static_cast<uInt>(text.size());
  d.z.next_out = reinterpret_cast<Bytef*>(out.data());
  d.z.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&d.z, Z_FINISH);
  const size_t produced = out.size() - d.z.avail_out;
  if (rc != Z_STREAM_END || produced >= text.size()) {
    keep(text);
    return;
  }
  keep(std::string_view(out.data(), produced));
  if (out.capacity() > kKeptBuffer) std::string().swap(out);  // a rare big one: not kept
}

CompactText CompactText::fromStored(std::string_view stored, size_t size) {
  if (stored.size() > size || (stored.empty() && size != 0) ||
      size > std::numeric_limits<uint32_t>::max()) {
    throw std::invalid_argument("CompactText: " + std::to_string(stored.size()) +
                                " stored bytes cannot hold a text of " + std::to_string(size));
  }
  CompactText out;
  out.size_ = static_cast<uint32_t>(size);
  out.keep(stored);
  return out;
}

CompactText::CompactText(const CompactText& other) : size_(other.size_) {
  keep(std::string_view(other.bytes_.get(), other.compactSize_));
}

CompactText& CompactText::operator=(const CompactText& other) {
  if (this != &other) {
    CompactText copy(other);
    *this = std::move(copy);
  }
  return *this;
}

std::string CompactText::text() const {
  if (compactSize_ == size_) return std::string(bytes_.get(), size_);
  IdlePool<Inflater>::Lease lease(inflaters());
  Inflater& i = *lease;
  if (!i.ok || inflateReset(&i.z) != Z_OK ||
      inflateSetDictionary(&i.z, dictionary(), static_cast<uInt>(kDictionary.size())) != Z_OK) {
    return {};
  }
  std::string out(size_, '\0');
  i.z.next_in = reinterpret_cast<Bytef*>(bytes_.get());
  i.z.avail_in = static_cast<uInt>(compactSize_);
  i.z.next_out = reinterpret_cast<Bytef*>(out.data());
  i.z.avail_out = static_cast<uInt>(out.size());
  const int rc = inflate(&i.z, Z_FINISH);
  // Only this class wrote the stream, into memory no one else touches: it always inflates.
  return rc == Z_STREAM_END && i.z.avail_out == 0 ? out : std::string();
}

}  // namespace ramp
