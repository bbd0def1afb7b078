#pragma once

// Verification of ramp's audit log, pure over what was read from the store (or the API): every
// record's leaf hash recomputed from its envelope, its signature, the index and object its
// signed statement names; every checkpoint's signature, its tree head recomputed from the
// leaves, and the consistency of successive checkpoints. The first problem found is reported
// with the index of the first record it concerns, so `ramp audit verify` can say "record 41 was
// altered" and exit non-zero.
//
// Also the export format (`ramp audit export`): JSON lines, the newest checkpoint first, then
// each record's envelope with its inclusion proof against that checkpoint (docs/audit.md).
//
// Thread safety: pure functions.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "audit/merkle.h"
#include "audit/signer.h"
#include "ramp/error.h"
#include "ramp/store/state_store.h"

namespace ramp::audit {

struct VerifyReport {
  int64_t records = 0;
  int64_t checkpoints = 0;
  int64_t covered = 0;              // records under the newest checkpoint
  bool signatures = false;          // every record and checkpoint was signed by the key
  bool unsigned_ = false;           // the log carries no signatures (a daemon without --audit-key)
  std::optional<int64_t> badIndex;  // the first record a problem concerns
  std::string problem;              // "" when the log verifies

  bool ok() const { return problem.empty(); }
};

// Verifies `records` (the whole log, in index order) and `checkpoints` (oldest first). With
// `key`, every record and checkpoint must carry a valid signature by it; without, a log that
// carries signatures is checked for everything but them, and an unsigned log sets unsigned_.
VerifyReport verifyLog(const std::vector<store::AuditRecord>& records,
                       const std::vector<store::AuditCheckpoint>& checkpoints,
                       const VerifyingKey* key);

// The human-readable result: "ok: 42 records, 3 checkpoints (…)" or "FAILED at record 7: …".
std::string describeReport(const VerifyReport& report);

// The whole log of a store (the checkpoints, then the records in pages of 1,000; only the
// records of `object` when given), for verifyLog, exportLog and `ramp audit show`: the thin I/O
// shell of `ramp audit … --data-dir`. Errors: the store's.
struct LogContents {
  std::vector<store::AuditRecord> records;
  std::vector<store::AuditCheckpoint> checkpoints;
};
Result<LogContents> readLog(store::StateStore& store,
                            const std::optional<store::ObjectKey>& object = std::nullopt);

// --- export ---

// One line of an export after the first: a record and its inclusion proof against the
// checkpoint of the first line (no proof for a record the checkpoint does not cover).
struct ExportedRecord {
  int64_t index = 0;
  std::string envelope;  // DSSE JSON text
  std::vector<Hash> proof;
  int64_t treeSize = 0;  // 0 = not covered by the checkpoint
};

// The lines of an export (each ending in '\n'): {"checkpoint":NOTE,"treeSize":N,"rootHash":HEX}
// (when there is a checkpoint), then {"index","envelope","treeSize","inclusionProof":[HEX…]}
// per record. Errors: kInvalidArgument when the records are not the log (gaps).
Result<std::string> exportLog(const std::vector<store::AuditRecord>& records,
                              const std::vector<store::AuditCheckpoint>& checkpoints);

// Decodes one record line. Errors: kParse naming the field.
Result<ExportedRecord> decodeExportedRecord(std::string_view line);

// Checks one exported record against a checkpoint note: the note's signature by `key` (when
// given), the envelope's signature, and the inclusion proof. Errors: kInvalidArgument or
// kParse naming what failed.
Status verifyExportedRecord(const ExportedRecord& record, std::string_view checkpointNote,
                            const VerifyingKey* key);

}  // namespace ramp::audit
