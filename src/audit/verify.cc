#include "audit/verify.h"

#include <nlohmann/json.hpp>

#include "audit/audited_store.h"
#include "audit/checkpoint.h"
#include "audit/dsse.h"
#include "audit/statement.h"

namespace ramp::audit {
namespace {

std::string n(int64_t v) { return std::to_string(v); }

// A stored checkpoint's note: verified with `key`, else parsed (signed or not).
Result<Checkpoint> readNote(std::string_view note, const VerifyingKey* key, bool* isSigned) {
  size_t sep = note.rfind("\n\n");
  *isSigned = sep != std::string_view::npos;
  if (key) return verifyCheckpoint(note, kLogOrigin, *key);
  return parseCheckpointText(*isSigned ? note.substr(0, sep + 1) : note);
}

}  // namespace

VerifyReport verifyLog(const std::vector<store::AuditRecord>& records,
                       const std::vector<store::AuditCheckpoint>& checkpoints,
                       const VerifyingKey* key) {
  VerifyReport r;
  r.records = static_cast<int64_t>(records.size());
  r.checkpoints = static_cast<int64_t>(checkpoints.size());
  auto fail = [&r](int64_t index, std::string problem) {
    r.badIndex = index;
    r.problem = std::move(problem);
    return r;
  };
  std::vector<Hash> leaves;
  leaves.reserve(records.size());
  std::optional<bool> signedLog;  // whether the first record carries a signature
  for (size_t i = 0; i < records.size(); ++i) {
    const store::AuditRecord& rec = records[i];
    const int64_t idx = static_cast<int64_t>(i);
    const std::string at = "record " + n(idx);
    if (rec.index != idx) {
      if (rec.index > idx) {
        return fail(idx, at + " is missing: the log goes from record " + n(idx - 1) +
                             " to record " + n(rec.index) + " (rows were deleted)");
      }
      return fail(idx, at + " is out of order: the row after record " + n(idx - 1) + " has index " +
                           n(rec.index));
    }
    const Hash leaf = leafHash(rec.entry);
    if (toHex(leaf) != rec.leafHash) {
      return fail(idx, at + " was altered: its envelope does not hash to its stored leaf hash");
    }
    auto envelope = decodeEnvelope(rec.entry);
    if (!envelope) return fail(idx, at + ": " + envelope.error().message);
    if (envelope->payloadType != kInTotoPayloadType) {
      return fail(idx, at + ": payloadType is " + envelope->payloadType + ", not " +
                           std::string(kInTotoPayloadType));
    }
    const bool hasSignature = !envelope->signatures.empty();
    if (!signedLog) signedLog = hasSignature;
    if (hasSignature != *signedLog) {
      return fail(idx, at +
                           (hasSignature ? " is signed but record 0 is not"
                                         : " is unsigned but record 0 is signed") +
                           " (records were replaced)");
    }
    if (key) {
      if (auto s = verifyEnvelope(*envelope, *key); !s) {
        return fail(idx, at + " was altered or forged: " + s.error().message);
      }
    }
    auto decision = decodeDecision(envelope->payload);
    if (!decision) return fail(idx, at + ": " + decision.error().message);
    if (decision->index != idx) {
      return fail(idx, at + ": its statement says it is record " + n(decision->index) +
                           " (records were reordered, or deleted and renumbered)");
    }
    if (decision->object != rec.object) {
      return fail(idx, at + ": stored as about " + rec.object.toString() +
                           " but its statement is about " + decision->object.toString());
    }
    leaves.push_back(leaf);
  }

  int64_t prevSize = 0;
  Hash prevRoot{};
  bool checkpointsSigned = true;
  for (size_t k = 0; k < checkpoints.size(); ++k) {
    const store::AuditCheckpoint& cp = checkpoints[k];
    const std::string at = "checkpoint of size " + n(cp.size);
    if (cp.size <= prevSize) {
      return fail(prevSize,
                  at + " follows one of size " + n(prevSize) + ": checkpoints were reordered");
    }
    if (cp.size > r.records) {
      return fail(r.records, at + " covers records " + n(r.records) + " to " + n(cp.size - 1) +
                                 ", which are missing (rows were deleted)");
    }
    bool isSigned = false;
    auto note = readNote(cp.note, key, &isSigned);
    if (!note) return fail(prevSize, at + ": " + note.error().message);
    checkpointsSigned = checkpointsSigned && isSigned;
    if (static_cast<int64_t>(note->size) != cp.size || toHex(note->root) != cp.rootHash) {
      return fail(prevSize, at + ": its stored size or root hash differ from its note");
    }
    auto span = std::span<const Hash>(leaves).first(static_cast<size_t>(cp.size));
    const Hash root = treeHead(span);
    if (root != note->root) {
      return fail(prevSize, "records " + n(prevSize) + " to " + n(cp.size - 1) +
                                " do not match the " + at +
                                ": one of them was altered, replaced or reordered");
    }
    if (prevSize > 0) {
      auto proof = consistencyProof(span, static_cast<uint64_t>(prevSize));
      if (!proof) return fail(prevSize, at + ": " + proof.error().message);
      if (auto s = verifyConsistency(static_cast<uint64_t>(prevSize),
                                     static_cast<uint64_t>(cp.size), prevRoot, root, *proof);
          !s) {
        return fail(prevSize, at + " is not consistent with the checkpoint of size " + n(prevSize) +
                                  ": " + s.error().message);
      }
    }
    prevSize = cp.size;
    prevRoot = root;
  }
  r.covered = prevSize;
  r.unsigned_ = signedLog.has_value() ? !*signedLog : !checkpointsSigned;
  if (!signedLog && !checkpoints.empty()) r.unsigned_ = !checkpointsSigned;
  r.signatures = key != nullptr && !r.unsigned_;
  return r;
}

std::string describeReport(const VerifyReport& r) {
  if (!r.ok()) {
    return "FAILED at record " + n(r.badIndex.value_or(0)) + ": " + r.problem;
  }
  std::string out = "ok: " + n(r.records) + " records, " + n(r.checkpoints) + " checkpoints";
  if (r.unsigned_) {
    out +=
        "; UNSIGNED (the daemon ran without --audit-key): the log is consistent, which proves "
        "nothing against someone who can rewrite the database";
  } else if (!r.signatures) {
    out += "; signatures NOT checked (no public key given)";
  } else {
    out += ", every signature valid";
  }
  if (r.covered < r.records) {
    out += "; records " + n(r.covered) + " to " + n(r.records - 1) +
           " are newer than the newest checkpoint (their removal would not be detected yet)";
  }
  return out;
}

Result<LogContents> readLog(store::StateStore& store,
                            const std::optional<store::ObjectKey>& object) {
  LogContents out;
  // Checkpoints first: records written meanwhile only lengthen the uncovered tail.
  auto checkpoints = store.listAuditCheckpoints();
  if (!checkpoints) return std::unexpected(checkpoints.error());
  out.checkpoints = std::move(*checkpoints);
  store::AuditQuery q;
  q.object = object;
  while (true) {
    auto page = store.listAuditRecords(q);
    if (!page) return std::unexpected(page.error());
    if (page->empty()) break;
    q.fromIndex = page->back().index + 1;
    std::move(page->begin(), page->end(), std::back_inserter(out.records));
  }
  return out;
}

// --- export ---

Result<std::string> exportLog(const std::vector<store::AuditRecord>& records,
                              const std::vector<store::AuditCheckpoint>& checkpoints) {
  std::vector<Hash> leaves;
  leaves.reserve(records.size());
  for (size_t i = 0; i < records.size(); ++i) {
    if (records[i].index != static_cast<int64_t>(i)) {
      return makeError(ErrorCode::kInvalidArgument, "audit export: record " +
                                                        n(static_cast<int64_t>(i)) +
                                                        " is missing (run ramp audit verify)");
    }
    leaves.push_back(leafHash(records[i].entry));
  }
  std::string out;
  int64_t size = 0;
  if (!checkpoints.empty()) {
    const store::AuditCheckpoint& cp = checkpoints.back();
    size = std::min<int64_t>(cp.size, static_cast<int64_t>(leaves.size()));
    nlohmann::ordered_json head;
    head["checkpoint"] = cp.note;
    head["treeSize"] = cp.size;
    head["rootHash"] = cp.rootHash;
    out += head.dump() + "\n";
  }
  auto span = std::span<const Hash>(leaves).first(static_cast<size_t>(size));
  for (size_t i = 0; i < records.size(); ++i) {
    nlohmann::ordered_json line;
    line["index"] = records[i].index;
    line["envelope"] = records[i].entry;
    const bool covered = static_cast<int64_t>(i) < size;
    line["treeSize"] = covered ? size : 0;
    line["inclusionProof"] = nlohmann::ordered_json::array();
    if (covered) {
      auto proof = inclusionProof(span, i);
      if (!proof) return std::unexpected(proof.error());
      for (const Hash& h : *proof) line["inclusionProof"].push_back(toHex(h));
    }
    out += line.dump() + "\n";
  }
  return out;
}

Result<ExportedRecord> decodeExportedRecord(std::string_view text) {
  auto bad = [](const std::string& what) {
    return makeError(ErrorCode::kParse, "exported record: " + what);
  };
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return bad("not a JSON object");
  ExportedRecord r;
  auto index = j.find("index");
  if (index == j.end() || !index->is_number_integer() || index->get<int64_t>() < 0) {
    return bad("index: missing or not a non-negative integer");
  }
  r.index = index->get<int64_t>();
  auto envelope = j.find("envelope");
  if (envelope == j.end() || !envelope->is_string()) return bad("envelope: missing or not text");
  r.envelope = envelope->get<std::string>();
  auto size = j.find("treeSize");
  if (size == j.end() || !size->is_number_integer() || size->get<int64_t>() < 0) {
    return bad("treeSize: missing or not a non-negative integer");
  }
  r.treeSize = size->get<int64_t>();
  auto proof = j.find("inclusionProof");
  if (proof == j.end() || !proof->is_array()) return bad("inclusionProof: missing or not a list");
  for (size_t i = 0; i < proof->size(); ++i) {
    const auto& h = (*proof)[i];
    auto hash = h.is_string() ? fromHex(h.get<std::string>())
                              : Result<Hash>(makeError(ErrorCode::kParse, "not text"));
    if (!hash) return bad("inclusionProof[" + std::to_string(i) + "]: not 64 hex digits");
    r.proof.push_back(*hash);
  }
  return r;
}

Status verifyExportedRecord(const ExportedRecord& record, std::string_view checkpointNote,
                            const VerifyingKey* key) {
  bool isSigned = false;
  auto cp = readNote(checkpointNote, key, &isSigned);
  if (!cp) return std::unexpected(cp.error());
  auto envelope = decodeEnvelope(record.envelope);
  if (!envelope) return std::unexpected(envelope.error());
  if (key) {
    if (auto s = verifyEnvelope(*envelope, *key); !s) return s;
  }
  if (record.treeSize == 0) {
    return makeError(ErrorCode::kInvalidArgument,
                     "record " + n(record.index) + " is not covered by the checkpoint");
  }
  if (static_cast<uint64_t>(record.treeSize) != cp->size) {
    return makeError(ErrorCode::kInvalidArgument,
                     "record " + n(record.index) + ": its proof is for a tree of " +
                         n(record.treeSize) + " records, the checkpoint's has " +
                         std::to_string(cp->size));
  }
  return verifyInclusion(leafHash(record.envelope), static_cast<uint64_t>(record.index), cp->size,
                         record.proof, cp->root);
}

}  // namespace ramp::audit
