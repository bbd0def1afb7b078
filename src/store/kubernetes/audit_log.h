#pragma once

// KubernetesAuditLog: store.kubernetes's audit log (state_store.h, "the audit log"; records and
// checkpoints made and signed by src/audit), kept in ConfigMaps of the store's lease namespace
// that only the store writes (label store.ramp.dev/audit):
//
//  - records: `ramp-audit-<chunk>` holds records chunk*kRecordsPerChunk … +kRecordsPerChunk-1,
//    one data key per record (its index, zero-padded to 12 digits) whose value is the JSON
//    {"time": ms, "kind", "namespace", "name", "leafHash", "entry"};
//  - checkpoints: `ramp-audit-checkpoints-<n>` holds the checkpoints of sizes
//    n*kCheckpointSizesPerChunk … (+that − 1), one key per size: {"time", "rootHash", "note"}.
//
// A chunk stays far below a ConfigMap's 1 MiB (a record's envelope is ~2 KiB). Appending is a
// compare-and-swap on the chunk: created when absent (AlreadyExists: another writer made it) or
// replaced at the resourceVersion read (409: another writer changed it); after either, the log's
// size is read again from the server and a record that no longer fits its index is refused with
// checkAuditIndexes()'s kFailedPrecondition, so two writers never interleave their records.
//
// Kubernetes has no transactions: the store appends a decision's records before writing the
// decision (KubernetesStateStore::writeWithEvents), so no decision exists without its record; a
// record whose decision write then fails stays — the log may name a decision that was attempted
// and did not land, never miss one that did. Records carry no event id here (the store links
// them to their Events by the Event's annotation, store.ramp.dev/audit-index).
//
// Threading: every method may be called from any thread (one mutex; no lock across requests is
// needed for correctness, only to keep the cached size coherent).

#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "kube/client.h"
#include "ramp/error.h"
#include "ramp/store/state_store.h"

namespace ramp::store::kubernetes {

inline constexpr int64_t kRecordsPerChunk = 64;
inline constexpr int64_t kCheckpointSizesPerChunk = 1024;
inline constexpr const char* kAuditLabel = "store.ramp.dev/audit";  // records | checkpoints

// --- the ConfigMaps' data, as pure functions ---

// The ConfigMap of `kind` ("records" or "checkpoints") chunk `chunk` in `ns` with `data` (a JSON
// object of string values), at `resourceVersion` ("" for a create).
std::string auditChunkBody(const std::string& name, const std::string& ns, const char* kind,
                           const std::string& data, const std::string& resourceVersion);
// One record as its data key's value, and back (kParse naming the key on a malformed value).
std::string encodeAuditRecord(const AuditRecord& record);
Result<AuditRecord> decodeAuditRecord(const std::string& key, const std::string& value);
std::string encodeAuditCheckpoint(const AuditCheckpoint& checkpoint);
Result<AuditCheckpoint> decodeAuditCheckpoint(const std::string& key, const std::string& value);
// The data key of index or size `n`: 12 digits, zero-padded, so keys sort as numbers.
std::string auditKey(int64_t n);

class KubernetesAuditLog {
 public:
  // `client` must outlive the log; `ns` is where its ConfigMaps live.
  KubernetesAuditLog(kube::Client& client, std::string ns)
      : client_(client), namespace_(std::move(ns)) {}

  // The number of records (read from the server the first time and after a conflict).
  Result<int64_t> size();
  // Appends the records of the events that carry one (auditEntry) and were not appended already
  // (auditAppended), at the indexes they name (consecutive from size()). Errors:
  // kFailedPrecondition when another writer got there first (nothing of this call written, unless
  // the records span two chunks and the second lost: then the first chunk's part stays, and the
  // error says so); the API's errors.
  Status append(std::span<const Event> events);
  // Records in index order, as AuditQuery says (eventId 0: see the header comment).
  Result<std::vector<AuditRecord>> list(const AuditQuery& query);
  // Appends a checkpoint (checkAuditCheckpoint against the newest and size()). After its own
  // append the log keeps the newest size and that chunk as written, so the next append needs
  // neither the list nor a GET (its compare-and-swap catches another writer's change).
  Status appendCheckpoint(const AuditCheckpoint& checkpoint);
  Result<std::vector<AuditCheckpoint>> checkpoints();

 private:
  // A chunk as read: its data (JSON object) and resourceVersion; nullopt when absent.
  struct Chunk {
    std::string data = "{}";
    std::string resourceVersion;
  };
  Result<std::optional<Chunk>> readChunk(const std::string& name);
  // Writes `chunk` (created when its resourceVersion is ""); returns its new resourceVersion.
  // kFailedPrecondition on a lost CAS.
  Result<std::string> writeChunk(const std::string& name, const char* kind, const Chunk& chunk);
  void reset();  // forgets the cached size and tail (after a lost CAS or an error); needs mu_
  Result<int64_t> readSize();  // from the server: the last records chunk and its keys

  kube::Client& client_;
  const std::string namespace_;
  std::mutex mu_;
  std::optional<int64_t> size_;  // cached; reset after a lost compare-and-swap
  // The records chunk this log wrote last (number, content, resourceVersion): the next append
  // to it needs no GET, so a decision costs one request. Reset with size_.
  std::optional<std::pair<int64_t, Chunk>> tail_;
  // The newest checkpoint's size and the checkpoints chunk this log wrote last (number,
  // content, resourceVersion); reset after a failed append of a checkpoint.
  struct CheckpointTail {
    int64_t newest = 0;
    int64_t chunk = 0;
    Chunk content;
  };
  std::optional<CheckpointTail> checkpointTail_;
};

}  // namespace ramp::store::kubernetes
