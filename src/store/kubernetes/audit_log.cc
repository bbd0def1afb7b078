#include "store/kubernetes/audit_log.h"

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "store/common/store_rules.h"

namespace ramp::store::kubernetes {

using nlohmann::json;

namespace {

constexpr const char* kRecords = "records";
constexpr const char* kCheckpoints = "checkpoints";

std::string recordsChunkName(int64_t chunk) { return "ramp-audit-" + std::to_string(chunk); }
std::string checkpointsChunkName(int64_t chunk) {
  return "ramp-audit-checkpoints-" + std::to_string(chunk);
}

json parseData(const std::string& text) {
  json j = json::parse(text, nullptr, false);
  return j.is_object() ? j : json::object();
}

Result<std::string> stringField(const json& j, const char* field, const std::string& where) {
  auto it = j.find(field);
  if (it == j.end() || !it->is_string()) {
    return makeError(ErrorCode::kParse, where + ": " + field + " missing or not a string");
  }
  return it->get<std::string>();
}

Result<int64_t> msField(const json& j, const std::string& where) {
  auto it = j.find("time");
  if (it == j.end() || !it->is_number_integer()) {
    return makeError(ErrorCode::kParse, where + ": time missing or not an integer");
  }
  return it->get<int64_t>();
}

Result<int64_t> keyNumber(const std::string& key, const std::string& where) {
  if (key.empty() || key.size() > 18 ||
      !std::all_of(key.begin(), key.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return makeError(ErrorCode::kParse, where + ": key " + key + " is not a number");
  }
  return std::stoll(key);
}

}  // namespace

std::string auditKey(int64_t n) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%012lld", static_cast<long long>(n));
  return buf;
}

std::string auditChunkBody(const std::string& name, const std::string& ns, const char* kind,
                           const std::string& data, const std::string& resourceVersion) {
  json meta = {{"name", name},
               {"namespace", ns},
               {"labels", {{kAuditLabel, kind}, {"app.kubernetes.io/managed-by", "ramp"}}}};
  if (!resourceVersion.empty()) meta["resourceVersion"] = resourceVersion;
  return json{
      {"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", meta}, {"data", parseData(data)}}
      .dump();
}

std::string encodeAuditRecord(const AuditRecord& r) {
  return json{{"time", r.time.time_since_epoch().count()},
              {"kind", r.object.kind},
              {"namespace", r.object.namespace_},
              {"name", r.object.name},
              {"leafHash", r.leafHash},
              {"entry", r.entry}}
      .dump();
}

Result<AuditRecord> decodeAuditRecord(const std::string& key, const std::string& value) {
  const std::string where = "audit record " + key;
  auto index = keyNumber(key, where);
  if (!index) return std::unexpected(index.error());
  json j = json::parse(value, nullptr, false);
  if (!j.is_object()) return makeError(ErrorCode::kParse, where + ": not a JSON object");
  AuditRecord r;
  r.index = *index;
  auto ms = msField(j, where);
  auto kind = stringField(j, "kind", where);
  auto ns = stringField(j, "namespace", where);
  auto name = stringField(j, "name", where);
  auto leaf = stringField(j, "leafHash", where);
  auto entry = stringField(j, "entry", where);
  for (const auto* e : {&kind, &ns, &name, &leaf, &entry}) {
    if (!*e) return std::unexpected(e->error());
  }
  if (!ms) return std::unexpected(ms.error());
  r.time = Time(Duration(*ms));
  r.object = ObjectKey{*kind, *ns, *name};
  r.leafHash = *leaf;
  r.entry = *entry;
  return r;
}

std::string encodeAuditCheckpoint(const AuditCheckpoint& c) {
  return json{
      {"time", c.time.time_since_epoch().count()}, {"rootHash", c.rootHash}, {"note", c.note}}
      .dump();
}

Result<AuditCheckpoint> decodeAuditCheckpoint(const std::string& key, const std::string& value) {
  const std::string where = "audit checkpoint " + key;
  auto size = keyNumber(key, where);
  if (!size) return std::unexpected(size.error());
  json j = json::parse(value, nullptr, false);
  if (!j.is_object()) return makeError(ErrorCode::kParse, where + ": not a JSON object");
  auto ms = msField(j, where);
  auto root = stringField(j, "rootHash", where);
  auto note = stringField(j, "note", where);
  if (!ms) return std::unexpected(ms.error());
  if (!root) return std::unexpected(root.error());
  if (!note) return std::unexpected(note.error());
  return AuditCheckpoint{*size, *root, *note, Time(Duration(*ms))};
}

Result<std::optional<KubernetesAuditLog::Chunk>> KubernetesAuditLog::readChunk(
    const std::string& name) {
  auto got = client_.get(kube::configMaps(), namespace_, name);
  if (!got) {
    if (got.error().code == ErrorCode::kNotFound) return std::nullopt;
    return std::unexpected(got.error());
  }
  json j = json::parse(*got, nullptr, false);
  if (!j.is_object()) {
    return makeError(ErrorCode::kParse, "configmaps " + namespace_ + "/" + name + ": not JSON");
  }
  Chunk c;
  c.data = j.value("data", json::object()).dump();
  c.resourceVersion = j.value("/metadata/resourceVersion"_json_pointer, "");
  return c;
}

Result<std::string> KubernetesAuditLog::writeChunk(const std::string& name, const char* kind,
                                                   const Chunk& chunk) {
  const std::string body =
      auditChunkBody(name, namespace_, kind, chunk.data, chunk.resourceVersion);
  auto written = chunk.resourceVersion.empty()
                     ? client_.create(kube::configMaps(), namespace_, body)
                     : client_.update(kube::configMaps(), namespace_, name, body);
  if (written) {
    json reply = json::parse(*written, nullptr, false);
    return reply.is_object() ? reply.value("/metadata/resourceVersion"_json_pointer, "") : "";
  }
  const ErrorCode code = written.error().code;
  if (code == ErrorCode::kAlreadyExists || code == ErrorCode::kConflict) {
    return makeError(ErrorCode::kFailedPrecondition,
                     "configmaps " + namespace_ + "/" + name +
                         ": another writer changed the audit log (" + written.error().message +
                         "); nothing was written");
  }
  return std::unexpected(written.error());
}

Result<int64_t> KubernetesAuditLog::readSize() {
  auto exists = [&](int64_t chunk) -> Result<bool> {
    auto c = readChunk(recordsChunkName(chunk));
    if (!c) return std::unexpected(c.error());
    return c->has_value();
  };
  auto first = exists(0);
  if (!first) return std::unexpected(first.error());
  if (!*first) return 0;
  // Chunks are written in order: find the last one by doubling, then bisecting.
  int64_t lo = 0, hi = 1;
  for (;;) {
    auto e = exists(hi);
    if (!e) return std::unexpected(e.error());
    if (!*e) break;
    lo = hi;
    hi *= 2;
  }
  while (hi - lo > 1) {
    const int64_t mid = lo + (hi - lo) / 2;
    auto e = exists(mid);
    if (!e) return std::unexpected(e.error());
    (*e ? lo : hi) = mid;
  }
  auto last = readChunk(recordsChunkName(lo));
  if (!last) return std::unexpected(last.error());
  const int64_t keys = *last ? static_cast<int64_t>(parseData((*last)->data).size()) : 0;
  return lo * kRecordsPerChunk + keys;
}

void KubernetesAuditLog::reset() {
  size_.reset();
  tail_.reset();
}

Result<int64_t> KubernetesAuditLog::size() {
  std::lock_guard lock(mu_);
  if (!size_) {
    auto s = readSize();
    if (!s) return std::unexpected(s.error());
    size_ = *s;
  }
  return *size_;
}

Status KubernetesAuditLog::append(std::span<const Event> events) {
  std::vector<const Event*> recorded;
  for (const Event& e : events) {
    if (!e.auditEntry.empty() && !e.auditAppended) recorded.push_back(&e);
  }
  if (recorded.empty()) return {};
  std::lock_guard lock(mu_);
  if (!size_) {
    auto s = readSize();
    if (!s) return std::unexpected(s.error());
    size_ = *s;
  }
  if (auto s = checkAuditIndexes(events, *size_); !s) return s;
  size_t next = 0;
  bool wroteSome = false;
  while (next < recorded.size()) {
    const int64_t chunk = recorded[next]->auditIndex / kRecordsPerChunk;
    const std::string name = recordsChunkName(chunk);
    Chunk c;
    if (tail_ && tail_->first == chunk) {
      c = tail_->second;  // as this log last wrote it: its compare-and-swap catches any change
    } else if (recorded[next]->auditIndex % kRecordsPerChunk != 0) {
      auto read = readChunk(name);
      if (!read) {
        reset();
        return std::unexpected(read.error());
      }
      if (!*read) {
        reset();
        return makeError(ErrorCode::kFailedPrecondition,
                         "configmaps " + namespace_ + "/" + name + " is missing: the audit log " +
                             "was changed by another writer; nothing was written");
      }
      c = **read;
    }
    json data = parseData(c.data);
    for (; next < recorded.size() && recorded[next]->auditIndex / kRecordsPerChunk == chunk;
         ++next) {
      const Event& e = *recorded[next];
      const std::string key = auditKey(e.auditIndex);
      if (data.contains(key)) {
        reset();
        return makeError(ErrorCode::kFailedPrecondition,
                         "audit record " + std::to_string(e.auditIndex) +
                             " exists already (another writer appended to the log); nothing "
                             "was written");
      }
      AuditRecord r;
      r.time = e.time;
      r.object = e.object;
      r.leafHash = e.auditLeafHash;
      r.entry = e.auditEntry;
      data[key] = encodeAuditRecord(r);
    }
    c.data = data.dump();
    auto version = writeChunk(name, kRecords, c);
    if (!version) {
      reset();
      if (!wroteSome) return std::unexpected(version.error());
      return makeError(version.error().code,
                       version.error().message + " (the records before index " +
                           std::to_string(chunk * kRecordsPerChunk) + " were written)");
    }
    c.resourceVersion = *version;
    tail_.emplace(chunk, std::move(c));
    wroteSome = true;
    *size_ = recorded[next - 1]->auditIndex + 1;
  }
  return {};
}

Result<std::vector<AuditRecord>> KubernetesAuditLog::list(const AuditQuery& query) {
  if (auto s = validateAuditQuery(query); !s) return std::unexpected(s.error());
  std::vector<AuditRecord> out;
  for (int64_t chunk = query.fromIndex / kRecordsPerChunk;
       static_cast<int64_t>(out.size()) < query.limit; ++chunk) {
    auto c = readChunk(recordsChunkName(chunk));
    if (!c) return std::unexpected(c.error());
    if (!*c) break;
    json data = parseData((*c)->data);
    for (auto it = data.begin(); it != data.end(); ++it) {  // keys sort as numbers
      if (!it.value().is_string()) {
        return makeError(ErrorCode::kParse, "audit record " + it.key() + ": not a string");
      }
      auto r = decodeAuditRecord(it.key(), it.value().get<std::string>());
      if (!r) return std::unexpected(r.error());
      if (r->index < query.fromIndex) continue;
      if (query.object && !(r->object == *query.object)) continue;
      out.push_back(std::move(*r));
      if (static_cast<int64_t>(out.size()) == query.limit) break;
    }
    if (static_cast<int64_t>(data.size()) < kRecordsPerChunk) break;  // the last chunk
  }
  return out;
}

Result<std::vector<AuditCheckpoint>> KubernetesAuditLog::checkpoints() {
  kube::ListOptions o;
  o.labelSelector = std::string(kAuditLabel) + "=" + kCheckpoints;
  auto listed = client_.list(kube::configMaps(), namespace_, o);
  if (!listed) return std::unexpected(listed.error());
  std::vector<AuditCheckpoint> out;
  for (const std::string& item : listed->items) {
    json j = json::parse(item, nullptr, false);
    if (!j.is_object()) continue;
    const json data = j.value("data", json::object());
    for (const auto& [key, value] : data.items()) {
      if (!value.is_string()) {
        return makeError(ErrorCode::kParse, "audit checkpoint " + key + ": not a string");
      }
      auto c = decodeAuditCheckpoint(key, value.get<std::string>());
      if (!c) return std::unexpected(c.error());
      out.push_back(std::move(*c));
    }
  }
  std::sort(out.begin(), out.end(),
            [](const AuditCheckpoint& a, const AuditCheckpoint& b) { return a.size < b.size; });
  return out;
}

Status KubernetesAuditLog::appendCheckpoint(const AuditCheckpoint& checkpoint) {
  const int64_t chunk = checkpoint.size / kCheckpointSizesPerChunk;
  std::optional<CheckpointTail> cached;
  {
    std::lock_guard lock(mu_);
    cached = checkpointTail_;
  }
  int64_t lastSize = 0;
  if (cached) {
    lastSize = cached->newest;
  } else {
    auto all = checkpoints();
    if (!all) return std::unexpected(all.error());
    lastSize = all->empty() ? 0 : all->back().size;
  }
  auto records = size();
  if (!records) return std::unexpected(records.error());
  if (auto s = checkAuditCheckpoint(checkpoint, lastSize, *records); !s) return s;
  const std::string name = checkpointsChunkName(chunk);
  Chunk c;
  if (cached && cached->chunk == chunk) {
    c = std::move(cached->content);
  } else {
    auto read = readChunk(name);
    if (!read) return std::unexpected(read.error());
    c = read->value_or(Chunk{});
  }
  json data = parseData(c.data);
  data[auditKey(checkpoint.size)] = encodeAuditCheckpoint(checkpoint);
  c.data = data.dump();
  auto written = writeChunk(name, kCheckpoints, c);
  std::lock_guard lock(mu_);
  if (!written) {
    checkpointTail_.reset();
    return std::unexpected(written.error());
  }
  c.resourceVersion = *written;
  checkpointTail_ = CheckpointTail{checkpoint.size, chunk, std::move(c)};
  return {};
}

}  // namespace ramp::store::kubernetes
