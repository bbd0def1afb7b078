#include "spec/codec.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <concepts>
#include <nlohmann/json.hpp>

#include "spec/fields.h"
#include "spec/kinds.h"
#include "spec/node.h"
#include "spec/values.h"

namespace ramp::spec {
namespace internal {
namespace {

using json = nlohmann::json;
using Type = Node::Type;

std::string child(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}
std::string indexed(const std::string& path, size_t i) {
  return path + "[" + std::to_string(i) + "]";
}
std::string keyed(const std::string& path, std::string_view key) {
  return path + "[" + std::string(key) + "]";
}

std::string describe(const Node& n) {
  std::string what = typeName(n.type);
  if (n.type == Type::kString || n.type == Type::kInt || n.type == Type::kFloat ||
      n.type == Type::kBool) {
    std::string text = n.text.size() > 40 ? n.text.substr(0, 40) + "…" : n.text;
    if (n.type == Type::kString) return what + " \"" + text + "\"";
    return what + " " + text;
  }
  return what;
}

// ------------------------------------------------------------------------------------------
// Decoding

struct Decoder {
  std::string file;
  std::vector<Diagnostic>* diagnostics;
  SourceMap* positions;  // may be null

  void report(int32_t line, int32_t column, const std::string& path, std::string message,
              Severity severity = Severity::kError) {
    Diagnostic d;
    d.file = file;
    d.line = line;
    d.column = column;
    d.path = path;
    d.message = std::move(message);
    d.severity = severity;
    diagnostics->push_back(std::move(d));
  }
  void error(const Node& n, const std::string& path, std::string message) {
    report(n.line, n.column, path, std::move(message));
  }
  void wrongType(const Node& n, const std::string& path, const char* want) {
    error(n, path, std::string("must be ") + want + ", got " + describe(n));
  }
  void record(const std::string& path, const Node& n) {
    if (positions != nullptr && n.line > 0) positions->emplace(path, Position{n.line, n.column});
  }
};

json toJsonValue(const Node& n) {
  switch (n.type) {
    case Type::kNull: return nullptr;
    case Type::kBool: return n.boolean;
    case Type::kInt: return n.integer;
    case Type::kFloat:
      if (!std::isfinite(n.number)) return n.text;  // JSON has no inf/nan: keep the text
      return n.number;
    case Type::kString: return n.text;
    case Type::kSeq: {
      json a = json::array();
      for (const Node& item : n.items) a.push_back(toJsonValue(item));
      return a;
    }
    case Type::kMap: {
      json o = json::object();
      for (const MapEntry& e : n.entries) o[e.key] = toJsonValue(e.value);
      return o;
    }
  }
  return nullptr;
}

void decodeValue(Decoder& d, const Node& n, const std::string& path, std::string& out) {
  if (n.type != Type::kString) return d.wrongType(n, path, "a string");
  out = n.text;
}

bool integerOf(const Node& n, int64_t* out) {
  if (n.type == Type::kInt) {
    *out = n.integer;
    return true;
  }
  if (n.type == Type::kFloat && std::isfinite(n.number) && std::trunc(n.number) == n.number &&
      std::fabs(n.number) < 9.0e18) {
    *out = static_cast<int64_t>(n.number);
    return true;
  }
  return false;
}

void decodeValue(Decoder& d, const Node& n, const std::string& path, int64_t& out) {
  if (!integerOf(n, &out)) d.wrongType(n, path, "an integer");
}

void decodeValue(Decoder& d, const Node& n, const std::string& path, int32_t& out) {
  int64_t v = 0;
  if (!integerOf(n, &v)) return d.wrongType(n, path, "an integer");
  if (v > INT32_MAX || v < INT32_MIN) {
    return d.error(n, path, "must fit in a 32-bit integer, got " + n.text);
  }
  out = static_cast<int32_t>(v);
}

void decodeValue(Decoder& d, const Node& n, const std::string& path, bool& out) {
  if (n.type != Type::kBool) return d.wrongType(n, path, "true or false");
  out = n.boolean;
}

void decodeValue(Decoder& d, const Node& n, const std::string& path, IntOrString& out) {
  int64_t v = 0;
  if (n.type == Type::kString) {
    out.value = n.text;
  } else if (integerOf(n, &v)) {
    out.value = v;
  } else {
    d.wrongType(n, path, "an integer or a string");
  }
}

// Free-form values (a JobSpec, a web body, a plugin's config) are kept as JSON text, where a
// repeated key would silently keep only its last value: report it, as for typed objects.
void reportRepeatedKeys(Decoder& d, const Node& n, const std::string& path) {
  if (n.type == Type::kSeq) {
    for (size_t i = 0; i < n.items.size(); ++i) reportRepeatedKeys(d, n.items[i], indexed(path, i));
  } else if (n.type == Type::kMap) {
    for (size_t i = 0; i < n.entries.size(); ++i) {
      const MapEntry& e = n.entries[i];
      std::string p = child(path, e.key);
      for (size_t k = 0; k < i; ++k) {
        if (n.entries[k].key == e.key) {
          d.report(e.line, e.column, p, "duplicate key \"" + e.key + "\"");
          break;
        }
      }
      reportRepeatedKeys(d, e.value, p);
    }
  }
}

void decodeValue(Decoder& d, const Node& n, const std::string& path, RawJson& out) {
  reportRepeatedKeys(d, n, path);
  out.text = toJsonValue(n).dump();
}

void decodeValue(Decoder& d, const Node& n, const std::string& path, Time& out) {
  if (n.type != Type::kString) return d.wrongType(n, path, "an RFC 3339 time string");
  auto t = parseRfc3339(n.text);
  if (!t) return d.error(n, path, t.error().message);
  out = *t;
}

void decodeValue(Decoder& d, const Node& n, const std::string& path, AnalysisPhase& out) {
  if (n.type != Type::kString) return d.wrongType(n, path, "an analysis phase");
  for (AnalysisPhase p : {AnalysisPhase::kNone, AnalysisPhase::kPending, AnalysisPhase::kRunning,
                          AnalysisPhase::kSuccessful, AnalysisPhase::kFailed, AnalysisPhase::kError,
                          AnalysisPhase::kInconclusive}) {
    if (n.text == analysisPhaseName(p)) {
      out = p;
      return;
    }
  }
  d.error(n, path,
          "must be one of Pending, Running, Successful, Failed, Error, Inconclusive; got \"" +
              n.text + "\"");
}

void decodeValue(Decoder& d, const Node& n, const std::string& path, RolloutPhase& out) {
  if (n.type != Type::kString) return d.wrongType(n, path, "a rollout phase");
  for (RolloutPhase p : {RolloutPhase::kNone, RolloutPhase::kHealthy, RolloutPhase::kProgressing,
                         RolloutPhase::kPaused, RolloutPhase::kDegraded}) {
    if (n.text == rolloutPhaseName(p)) {
      out = p;
      return;
    }
  }
  d.error(n, path, "must be one of Healthy, Progressing, Paused, Degraded; got \"" + n.text + "\"");
}

void decodeValue(Decoder& d, const Node& n, const std::string& path, JobMetric& out);

class FieldsIn;
template <class T>
concept HasFields = requires(FieldsIn& v, T& t) {
  fields(v, t);
};

template <class T>
void decodeValue(Decoder& d, const Node& n, const std::string& path, std::optional<T>& out);
template <class T>
void decodeValue(Decoder& d, const Node& n, const std::string& path, std::vector<T>& out);
template <class T>
void decodeValue(Decoder& d, const Node& n, const std::string& path, std::map<std::string, T>& out);
template <HasFields T>
void decodeValue(Decoder& d, const Node& n, const std::string& path, T& out);

// Visits the fields of one object node (see fields.h).
class FieldsIn {
 public:
  FieldsIn(Decoder& d, const Node& n, std::string path)
      : d_(d), n_(n), path_(std::move(path)), used_(n.entries.size(), false) {
    for (size_t i = 0; i < n.entries.size(); ++i) {
      for (size_t k = 0; k < i; ++k) {
        if (n.entries[k].key == n.entries[i].key) {
          d_.report(n.entries[i].line, n.entries[i].column, child(path_, n.entries[i].key),
                    "duplicate field \"" + n.entries[i].key + "\"");
          used_[i] = true;  // reported once, not again as unknown
          break;
        }
      }
    }
  }

  template <class T>
  FieldsIn& operator()(const char* key, T& out) {
    if (const MapEntry* e = take(key)) {
      std::string p = child(path_, key);
      d_.record(p, e->value);
      if (e->value.type != Type::kNull) decodeValue(d_, e->value, p, out);
    }
    return *this;
  }

  template <class T>
  FieldsIn& keep(const char* key, T& out) {
    return (*this)(key, out);
  }

  FieldsIn& presence(const char* key, bool& out) {
    if (const MapEntry* e = take(key)) {
      std::string p = child(path_, key);
      d_.record(p, e->value);
      if (e->value.type == Type::kNull) return *this;
      if (e->value.type != Type::kMap) {
        d_.wrongType(e->value, p, "an object ({})");
        return *this;
      }
      for (const MapEntry& inner : e->value.entries) {
        d_.report(inner.line, inner.column, child(p, inner.key),
                  "unknown field \"" + inner.key + "\"");
      }
      out = true;
    }
    return *this;
  }

  FieldsIn& ignore(std::initializer_list<const char*> keys) {
    for (const char* key : keys) take(key);
    return *this;
  }

  FieldsIn& extra(std::map<std::string, RawJson>& out, const std::set<std::string_view>& known) {
    for (size_t i = 0; i < n_.entries.size(); ++i) {
      const MapEntry& e = n_.entries[i];
      if (used_[i] || known.count(e.key) == 0) continue;
      used_[i] = true;
      std::string p = child(path_, e.key);
      d_.record(p, e.value);
      if (e.value.type == Type::kNull) continue;
      decodeValue(d_, e.value, p, out[e.key]);
    }
    return *this;
  }

  FieldsIn& rest(const char* project) {
    for (size_t i = 0; i < n_.entries.size(); ++i) {
      if (used_[i]) continue;
      used_[i] = true;
      const MapEntry& e = n_.entries[i];
      d_.report(
          e.line, e.column, child(path_, e.key),
          fmt::format("\"{}\" is a field of {} that ramp does not read: ignored", e.key, project),
          Severity::kWarning);
    }
    return *this;
  }

  // Reports every field that no visitor call consumed.
  void finish() {
    for (size_t i = 0; i < n_.entries.size(); ++i) {
      if (used_[i]) continue;
      const MapEntry& e = n_.entries[i];
      d_.report(e.line, e.column, child(path_, e.key), "unknown field \"" + e.key + "\"");
    }
  }

 private:
  const MapEntry* take(std::string_view key) {
    for (size_t i = 0; i < n_.entries.size(); ++i) {
      if (!used_[i] && n_.entries[i].key == key) {
        used_[i] = true;
        return &n_.entries[i];
      }
    }
    return nullptr;
  }

  Decoder& d_;
  const Node& n_;
  std::string path_;
  std::vector<bool> used_;
};

template <class T>
void decodeValue(Decoder& d, const Node& n, const std::string& path, std::optional<T>& out) {
  T value{};
  decodeValue(d, n, path, value);
  out = std::move(value);
}

template <class T>
void decodeValue(Decoder& d, const Node& n, const std::string& path, std::vector<T>& out) {
  if (n.type != Type::kSeq) return d.wrongType(n, path, "a list");
  out.clear();
  out.reserve(n.items.size());
  for (size_t i = 0; i < n.items.size(); ++i) {
    std::string p = indexed(path, i);
    d.record(p, n.items[i]);
    out.emplace_back();
    if (n.items[i].type == Type::kNull) {
      d.error(n.items[i], p, "must not be null");
      continue;
    }
    decodeValue(d, n.items[i], p, out.back());
  }
}

template <class T>
void decodeValue(Decoder& d, const Node& n, const std::string& path,
                 std::map<std::string, T>& out) {
  if (n.type != Type::kMap) return d.wrongType(n, path, "an object");
  out.clear();
  for (const MapEntry& e : n.entries) {
    std::string p = keyed(path, e.key);
    d.record(p, e.value);
    if (out.count(e.key) != 0) {
      d.report(e.line, e.column, p, "duplicate key \"" + e.key + "\"");
      continue;
    }
    T& slot = out[e.key];
    if (e.value.type == Type::kNull) {
      if constexpr (std::is_same_v<T, std::string>) continue;  // Kubernetes: null label = ""
      d.error(e.value, p, "must not be null");
      continue;
    }
    decodeValue(d, e.value, p, slot);
  }
}

template <HasFields T>
void decodeValue(Decoder& d, const Node& n, const std::string& path, T& out) {
  if (n.type != Type::kMap) return d.wrongType(n, path, "an object");
  FieldsIn v(d, n, path);
  fields(v, out);
  v.finish();
}

// job: {metadata, spec}. The spec is kept raw; the parts the local platform runs are read from
// spec.template.spec.containers[0] and spec.{activeDeadlineSeconds,backoffLimit}.
const Node* findKey(const Node& n, std::string_view key) {
  if (n.type != Type::kMap) return nullptr;
  for (const MapEntry& e : n.entries)
    if (e.key == key) return &e.value;
  return nullptr;
}

void decodeValue(Decoder& d, const Node& n, const std::string& path, JobMetric& out) {
  if (n.type != Type::kMap) return d.wrongType(n, path, "an object");
  out = JobMetric{};
  for (const MapEntry& e : n.entries) {
    std::string p = child(path, e.key);
    d.record(p, e.value);
    if (e.key == "metadata") {
      if (e.value.type == Type::kNull) continue;
      if (e.value.type != Type::kMap) {
        d.wrongType(e.value, p, "an object");
        continue;
      }
      decodeValue(d, e.value, p, out.metadata);
    } else if (e.key == "spec") {
      const Node& spec = e.value;
      if (spec.type != Type::kMap) {
        d.wrongType(spec, p, "an object (a Kubernetes JobSpec)");
        continue;
      }
      decodeValue(d, spec, p, out.raw);
      if (const Node* v = findKey(spec, "activeDeadlineSeconds"); v && v->type != Type::kNull) {
        decodeValue(d, *v, child(p, "activeDeadlineSeconds"), out.activeDeadlineSeconds);
      }
      if (const Node* v = findKey(spec, "backoffLimit"); v && v->type != Type::kNull) {
        decodeValue(d, *v, child(p, "backoffLimit"), out.backoffLimit);
      }
      const Node* tmpl = findKey(spec, "template");
      const Node* podSpec = tmpl ? findKey(*tmpl, "spec") : nullptr;
      const Node* containers = podSpec ? findKey(*podSpec, "containers") : nullptr;
      std::string cp = child(p, "template.spec.containers");
      if (containers == nullptr || containers->type != Type::kSeq || containers->items.empty()) {
        d.error(spec, cp, "a job needs at least one container");
        continue;
      }
      const Node& c = containers->items[0];
      std::string c0 = indexed(cp, 0);
      if (const Node* v = findKey(c, "command"); v && v->type != Type::kNull)
        decodeValue(d, *v, child(c0, "command"), out.command);
      if (const Node* v = findKey(c, "args"); v && v->type != Type::kNull)
        decodeValue(d, *v, child(c0, "args"), out.args);
      if (const Node* v = findKey(c, "env"); v && v->type != Type::kNull)
        decodeValue(d, *v, child(c0, "env"), out.env);
      if (const Node* v = findKey(c, "workingDir"); v && v->type != Type::kNull)
        decodeValue(d, *v, child(c0, "workingDir"), out.workingDir);
    } else {
      d.report(e.line, e.column, p, "unknown field \"" + e.key + "\"");
    }
  }
}

// ------------------------------------------------------------------------------------------
// Encoding

json rawToJson(const RawJson& raw) {
  json j = json::parse(raw.text, nullptr, false);
  return j.is_discarded() ? json(raw.text) : j;
}

json enc(const std::string& s) { return s; }
json enc(int32_t v) { return v; }
json enc(int64_t v) { return v; }
json enc(bool v) { return v; }
json enc(const IntOrString& v) { return v.isInt() ? json(v.intValue()) : json(v.stringValue()); }
json enc(const RawJson& v) { return rawToJson(v); }
json enc(const Time& t) { return formatRfc3339(t); }
json enc(AnalysisPhase p) { return analysisPhaseName(p); }
json enc(RolloutPhase p) { return rolloutPhaseName(p); }
json enc(const JobMetric& job);

class FieldsOut;
template <class T>
concept HasFieldsOut = requires(FieldsOut& v, T& t) {
  fields(v, t);
};

template <class T>
json enc(const std::optional<T>& v);
template <class T>
json enc(const std::vector<T>& v);
template <class T>
json enc(const std::map<std::string, T>& v);
template <HasFieldsOut T>
json enc(const T& v);

template <class T>
bool isEmpty(const T& v) {
  return v == T{};
}
template <class T>
bool isEmpty(const std::optional<T>& v) {
  return !v.has_value();
}

class FieldsOut {
 public:
  explicit FieldsOut(json& j) : j_(j) {}
  template <class T>
  FieldsOut& operator()(const char* key, const T& value) {
    if (!isEmpty(value)) j_[key] = enc(value);
    return *this;
  }
  template <class T>
  FieldsOut& keep(const char* key, const T& value) {
    j_[key] = enc(value);
    return *this;
  }
  FieldsOut& presence(const char* key, bool flag) {
    if (flag) j_[key] = json::object();
    return *this;
  }
  FieldsOut& ignore(std::initializer_list<const char*>) { return *this; }
  FieldsOut& rest(const char*) { return *this; }
  FieldsOut& extra(const std::map<std::string, RawJson>& raw, const std::set<std::string_view>&) {
    for (const auto& [k, v] : raw) j_[k] = rawToJson(v);
    return *this;
  }

 private:
  json& j_;
};

template <class T>
json enc(const std::optional<T>& v) {
  return v ? enc(*v) : json(nullptr);
}
template <class T>
json enc(const std::vector<T>& v) {
  json a = json::array();
  for (const T& item : v) a.push_back(enc(item));
  return a;
}
template <class T>
json enc(const std::map<std::string, T>& v) {
  json o = json::object();
  for (const auto& [k, item] : v) o[k] = enc(item);
  return o;
}
template <HasFieldsOut T>
json enc(const T& v) {
  json j = json::object();
  FieldsOut out(j);
  fields(out, const_cast<T&>(v));  // FieldsOut only reads
  return j;
}

json enc(const JobMetric& job) {
  json j = json::object();
  if (!job.metadata.empty()) j["metadata"] = rawToJson(job.metadata);
  j["spec"] = job.raw.empty() ? json::object() : rawToJson(job.raw);
  return j;
}

// --- Direct text encoding --------------------------------------------------------------------
// write(out, v) appends exactly enc(v).dump() for the types a RolloutStatus holds, without
// building a DOM: the controller encodes a status on every writing reconcile, and the DOM (a
// std::map node per key, a heap string per value) was a sixth of its time. Object keys come out in
// the DOM's order (byte order, as std::map<std::string> sorts them): each object's fields are
// written as they are visited, then reordered in place. Strings with bytes ≥ 0x80 go through
// nlohmann's serializer, so UTF-8 handling (and its errors) stay the DOM's.

void writeEscaped(std::string& out, std::string_view s) {
  for (unsigned char c : s) {
    if (c >= 0x80) {
      out += json(std::string(s)).dump();
      return;
    }
  }
  out += '"';
  appendJsonEscaped(out, s);
  out += '"';
}

template <std::integral I>
void writeInt(std::string& out, I v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}

void write(std::string& out, const std::string& s) { writeEscaped(out, s); }
void write(std::string& out, int32_t v) { writeInt(out, v); }
void write(std::string& out, int64_t v) { writeInt(out, v); }
void write(std::string& out, bool v) { out += v ? "true" : "false"; }
void write(std::string& out, const RawJson& v) { out += rawToJson(v).dump(); }
void write(std::string& out, const Time& t) { writeEscaped(out, formatRfc3339(t)); }
void write(std::string& out, AnalysisPhase p) { writeEscaped(out, analysisPhaseName(p)); }
void write(std::string& out, RolloutPhase p) { writeEscaped(out, rolloutPhaseName(p)); }

template <class T>
void write(std::string& out, const std::optional<T>& v);
template <class T>
void write(std::string& out, const std::vector<T>& v);
template <class T>
void write(std::string& out, const std::map<std::string, T>& v);
template <HasFieldsOut T>
void write(std::string& out, const T& v);

// The visitor behind write(out, object): appends each field's value to `out` and remembers
// where it is; finish() turns the region into the object's text with keys in order.
class FieldsText {
 public:
  explicit FieldsText(std::string& out) : out_(out), start_(out.size()) {}
  template <class T>
  FieldsText& operator()(const char* key, const T& value) {
    if (!isEmpty(value)) add(key, value);
    return *this;
  }
  template <class T>
  FieldsText& keep(const char* key, const T& value) {
    add(key, value);
    return *this;
  }
  FieldsText& presence(const char* key, bool flag) {
    if (flag) {
      const size_t begin = out_.size();
      out_ += "{}";
      fields_.push_back({key, begin, out_.size()});
    }
    return *this;
  }
  FieldsText& ignore(std::initializer_list<const char*>) { return *this; }
  FieldsText& rest(const char*) { return *this; }
  FieldsText& extra(const std::map<std::string, RawJson>& raw, const std::set<std::string_view>&) {
    for (const auto& [k, v] : raw) add(k, v);
    return *this;
  }

  // Replaces everything appended since construction with {"key":value,…}, keys sorted. A key
  // given twice keeps its last value, as assigning into the DOM does.
  void finish() {
    std::stable_sort(fields_.begin(), fields_.end(),
                     [](const Field& a, const Field& b) { return a.key < b.key; });
    std::string text;
    text.reserve(out_.size() - start_ + fields_.size() * 16 + 2);
    text += '{';
    for (size_t i = 0; i < fields_.size(); ++i) {
      if (i + 1 < fields_.size() && fields_[i + 1].key == fields_[i].key) continue;
      if (text.size() > 1) text += ',';
      writeEscaped(text, fields_[i].key);
      text += ':';
      text.append(out_, fields_[i].begin, fields_[i].end - fields_[i].begin);
    }
    text += '}';
    out_.resize(start_);
    out_ += text;
  }

 private:
  struct Field {
    std::string_view key;
    size_t begin, end;
  };
  template <class T>
  void add(std::string_view key, const T& value) {
    const size_t begin = out_.size();
    write(out_, value);
    fields_.push_back({key, begin, out_.size()});
  }

  std::string& out_;
  const size_t start_;
  std::vector<Field> fields_;
};

template <class T>
void write(std::string& out, const std::optional<T>& v) {
  if (v) {
    write(out, *v);
  } else {
    out += "null";
  }
}
template <class T>
void write(std::string& out, const std::vector<T>& v) {
  out += '[';
  for (size_t i = 0; i < v.size(); ++i) {
    if (i > 0) out += ',';
    write(out, v[i]);
  }
  out += ']';
}
template <class T>
void write(std::string& out, const std::map<std::string, T>& v) {
  out += '{';
  bool first = true;
  for (const auto& [k, item] : v) {
    if (!first) out += ',';
    first = false;
    writeEscaped(out, k);
    out += ':';
    write(out, item);
  }
  out += '}';
}
template <HasFieldsOut T>
void write(std::string& out, const T& v) {
  FieldsText text(out);
  fields(text, const_cast<T&>(v));  // FieldsText only reads
  text.finish();
}

json encodeTop(const char* kind, json metadata, json spec, json status) {
  json j = json::object();
  j["apiVersion"] = kApiVersion;
  j["kind"] = kind;
  j["metadata"] = std::move(metadata);
  j["spec"] = std::move(spec);
  if (!status.empty()) j["status"] = std::move(status);
  return j;
}

// ------------------------------------------------------------------------------------------
// Documents

std::optional<std::string> stringField(const Node& n, std::string_view key) {
  const Node* v = findKey(n, key);
  if (v == nullptr || v->type != Type::kString) return std::nullopt;
  return v->text;
}

// Decodes one top-level object whose kind is known to be ours. Returns false on error.
template <class T>
bool decodeTop(Decoder& d, const Node& n, T& out, bool hasStatus) {
  size_t before = d.diagnostics->size();
  FieldsIn v(d, n, "");
  v.ignore({"apiVersion", "kind"});
  v("metadata", out.metadata)("spec", out.spec);
  if constexpr (requires { out.operation; }) v("operation", out.operation);
  if constexpr (requires { out.status; }) v("status", out.status);
  v.finish();
  for (size_t i = before; i < d.diagnostics->size(); ++i) {
    if ((*d.diagnostics)[i].severity == Severity::kError) return false;
  }
  return true;
}

// The kinds of the argoproj.io API group, by the Argo project that defines them ("" = none).
std::string_view knownArgoKind(std::string_view kind) {
  static constexpr std::pair<std::string_view, std::string_view> kKinds[] = {
      {"Rollout", "Argo Rollouts"},
      {"AnalysisTemplate", "Argo Rollouts"},
      {"ClusterAnalysisTemplate", "Argo Rollouts"},
      {"AnalysisRun", "Argo Rollouts"},
      {"Experiment", "Argo Rollouts"},
      {"Application", "Argo CD"},
      {"ApplicationSet", "Argo CD"},
      {"AppProject", "Argo CD"},
      {"Workflow", "Argo Workflows"},
      {"WorkflowTemplate", "Argo Workflows"},
      {"ClusterWorkflowTemplate", "Argo Workflows"},
      {"CronWorkflow", "Argo Workflows"},
      {"WorkflowEventBinding", "Argo Workflows"},
      {"WorkflowTaskSet", "Argo Workflows"},
      {"WorkflowTaskResult", "Argo Workflows"},
      {"WorkflowArtifactGCTask", "Argo Workflows"},
      {"EventSource", "Argo Events"},
      {"Sensor", "Argo Events"},
      {"EventBus", "Argo Events"},
  };
  for (const auto& [k, project] : kKinds) {
    if (k == kind) return project;
  }
  return "";
}

// The names of the kinds ramp manages: "Rollout, AnalysisTemplate, …".
std::string kindList() {
  std::string out;
  for (const KindInfo& info : kKinds) out += (out.empty() ? "" : ", ") + std::string(info.name);
  return out;
}

// The kind ramp manages that `kind` is closest to (case-insensitive edit distance at most 2),
// or "" when none is.
std::string_view closestKind(std::string_view kind) {
  const auto lower = [](char c) {
    return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  };
  std::string_view best;
  size_t bestDistance = 3;
  for (const KindInfo& info : kKinds) {
    const std::string_view candidate = info.name;
    std::vector<size_t> row(candidate.size() + 1);
    for (size_t j = 0; j <= candidate.size(); ++j) row[j] = j;
    for (size_t i = 1; i <= kind.size(); ++i) {
      size_t diagonal = row[0];
      row[0] = i;
      for (size_t j = 1; j <= candidate.size(); ++j) {
        size_t above = row[j];
        size_t cost = lower(kind[i - 1]) == lower(candidate[j - 1]) ? 0 : 1;
        row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + cost});
        diagonal = above;
      }
    }
    if (row.back() < bestDistance) {
      bestDistance = row.back();
      best = candidate;
    }
  }
  return best;
}

enum class DocKind { kOurs, kOther, kError };

// Decodes one document node (a map) into `out` (appends on success).
void decodeDocument(Decoder& d, const Node& n, const std::string& file, const DecodeLimits& limits,
                    std::vector<Document>& out, int listDepth) {
  if (n.type == Type::kNull) return;
  if (n.type != Type::kMap) {
    d.error(
        n, "",
        std::string("a manifest must be an object with apiVersion and kind, got ") + describe(n));
    return;
  }
  const Node* kindNode = findKey(n, "kind");
  const Node* apiNode = findKey(n, "apiVersion");
  if (kindNode == nullptr || kindNode->type != Type::kString || kindNode->text.empty()) {
    if (kindNode == nullptr) {
      d.error(n, "kind", "must be set (this document has no kind)");
    } else {
      d.wrongType(*kindNode, "kind", "a non-empty string");
    }
    return;
  }
  std::string kind = kindNode->text;
  std::string apiVersion = apiNode && apiNode->type == Type::kString ? apiNode->text : "";
  if (kind == "List" && apiVersion == "v1" && listDepth == 0) {
    const Node* items = findKey(n, "items");
    if (items != nullptr && items->type == Type::kSeq) {
      for (const Node& item : items->items) decodeDocument(d, item, file, limits, out, 1);
    }
    return;
  }
  const std::optional<Kind> ours = kindNamed(kind);
  if (!ours) {
    std::string name;
    if (const Node* md = findKey(n, "metadata")) name = stringField(*md, "name").value_or("");
    const std::string quoted = name.empty() ? "" : " \"" + name + "\"";
    if (apiVersion.rfind("argoproj.io/", 0) != 0) {
      d.report(n.line, n.column, "",
               fmt::format("{}{} is not a kind ramp manages: skipped", kind, quoted),
               Severity::kNote);
      return;
    }
    // A kind of the argoproj.io group that no Argo project defines is a typo, not someone
    // else's object: skipping it would drop the Rollout the author meant.
    std::string_view known = knownArgoKind(kind);
    if (known.empty()) {
      std::string_view meant = closestKind(kind);
      const Node& at = *kindNode;
      d.error(at, "kind",
              fmt::format("\"{}\" is not a kind of argoproj.io{}", kind,
                          meant.empty() ? " (ramp manages " + kindList() + ")"
                                        : fmt::format(": did you mean {}?", meant)));
      return;
    }
    d.report(n.line, n.column, "",
             fmt::format("{}{} is not a kind ramp manages ({}): skipped", kind, quoted, known),
             known == "Argo Rollouts" ? Severity::kWarning : Severity::kNote);
    return;
  }
  if (apiVersion != kApiVersion) {
    const Node& at = apiNode ? *apiNode : n;
    d.error(at, "apiVersion",
            fmt::format("must be {} for kind {}, got {}", kApiVersion, kind,
                        apiNode ? describe(*apiNode) : std::string("nothing")));
    return;
  }
  Document doc{Rollout{}, file, Position{n.line, n.column}, {}};
  Decoder local{d.file, d.diagnostics, &doc.positions};
  bool ok = false;
  if (*ours == Kind::kRollout) {
    Rollout r;
    ok = decodeTop(local, n, r, true);
    doc.object = std::move(r);
  } else if (*ours == Kind::kAnalysisRun) {
    AnalysisRun r;
    ok = decodeTop(local, n, r, true);
    doc.object = std::move(r);
  } else if (*ours == Kind::kApplication) {
    Application a;
    ok = decodeTop(local, n, a, true);
    doc.object = std::move(a);
  } else if (*ours == Kind::kAppProject) {
    AppProject p;
    ok = decodeTop(local, n, p, false);
    doc.object = std::move(p);
  } else {
    AnalysisTemplate t;
    t.clusterScoped = kindInfo(*ours).clusterScoped;
    ok = decodeTop(local, n, t, false);
    doc.object = std::move(t);
  }
  if (ok) out.push_back(std::move(doc));
}

template <class T>
Decoded<T> fromJsonAs(std::string_view text, std::string_view file,
                      std::initializer_list<const char*> kinds) {
  Decoded<T> result;
  LoadOutput loaded = loadJson(text, file, DecodeLimits{});
  result.diagnostics = std::move(loaded.diagnostics);
  if (loaded.failed) return result;
  Decoder d{std::string(file), &result.diagnostics, nullptr};
  std::vector<Document> docs;
  const Node& n = loaded.documents[0];
  if (n.type == Type::kMap) {
    std::optional<std::string> kind = stringField(n, "kind");
    bool wanted = false;
    for (const char* k : kinds) wanted = wanted || (kind && *kind == k);
    if (!wanted) {
      std::string want;
      for (const char* k : kinds) want += (want.empty() ? "" : " or ") + std::string(k);
      d.error(n, "kind", "must be " + want + ", got " + (kind ? "\"" + *kind + "\"" : "nothing"));
      return result;
    }
  }
  decodeDocument(d, n, std::string(file), DecodeLimits{}, docs, 1);
  if (docs.size() == 1 && !hasErrors(result.diagnostics)) {
    if constexpr (std::is_same_v<T, Object>) {
      result.value = std::move(docs[0].object);
    } else {
      result.value = std::move(std::get<T>(docs[0].object));
    }
  } else if (!hasErrors(result.diagnostics)) {
    Diagnostic diag;
    diag.file = std::string(file);
    diag.message = "expected one object";
    result.diagnostics.push_back(std::move(diag));
  }
  return result;
}

}  // namespace

const std::set<std::string_view>& knownPodSpecFields() {
  static const std::set<std::string_view> k = {"volumes",
                                               "ephemeralContainers",
                                               "restartPolicy",
                                               "terminationGracePeriodSeconds",
                                               "activeDeadlineSeconds",
                                               "dnsPolicy",
                                               "nodeSelector",
                                               "serviceAccountName",
                                               "serviceAccount",
                                               "automountServiceAccountToken",
                                               "nodeName",
                                               "hostNetwork",
                                               "hostPID",
                                               "hostIPC",
                                               "shareProcessNamespace",
                                               "securityContext",
                                               "imagePullSecrets",
                                               "hostname",
                                               "subdomain",
                                               "affinity",
                                               "schedulerName",
                                               "tolerations",
                                               "hostAliases",
                                               "priorityClassName",
                                               "priority",
                                               "dnsConfig",
                                               "readinessGates",
                                               "runtimeClassName",
                                               "enableServiceLinks",
                                               "preemptionPolicy",
                                               "overhead",
                                               "topologySpreadConstraints",
                                               "setHostnameAsFQDN",
                                               "os",
                                               "hostUsers",
                                               "schedulingGates",
                                               "resourceClaims",
                                               "resources"};
  return k;
}

const std::set<std::string_view>& knownContainerFields() {
  static const std::set<std::string_view> k = {"envFrom",
                                               "resizePolicy",
                                               "restartPolicy",
                                               "volumeMounts",
                                               "volumeDevices",
                                               "lifecycle",
                                               "terminationMessagePath",
                                               "terminationMessagePolicy",
                                               "imagePullPolicy",
                                               "securityContext",
                                               "stdin",
                                               "stdinOnce",
                                               "tty"};
  return k;
}

const std::set<std::string_view>& knownProbeFields() {
  static const std::set<std::string_view> k = {"grpc", "terminationGracePeriodSeconds"};
  return k;
}

const std::set<std::string_view>& otherProviderNames() {
  static const std::set<std::string_view> k = {"datadog",    "newRelic", "wavefront", "kayenta",
                                               "cloudWatch", "graphite", "influxdb",  "skywalking"};
  return k;
}

}  // namespace internal

using internal::Decoder;
using internal::json;

Kind kindOf(const Object& object) {
  switch (object.index()) {
    case 0: return Kind::kRollout;
    case 1:
      return std::get<AnalysisTemplate>(object).clusterScoped ? Kind::kClusterAnalysisTemplate
                                                              : Kind::kAnalysisTemplate;
    case 2: return Kind::kAnalysisRun;
    case 3: return Kind::kApplication;
    default: return Kind::kAppProject;
  }
}

const char* kindName(Kind kind) { return kindInfo(kind).name; }

const ObjectMeta& metadataOf(const Object& object) {
  return std::visit([](const auto& o) -> const ObjectMeta& { return o.metadata; }, object);
}

ParseOutput parseDocuments(std::string_view text, std::string_view file,
                           const DecodeLimits& limits) {
  ParseOutput out;
  internal::LoadOutput loaded = internal::loadYaml(text, file, limits);
  out.diagnostics = std::move(loaded.diagnostics);
  if (loaded.failed) {
    out.unreadable = true;
    return out;
  }
  Decoder d{std::string(file), &out.diagnostics, nullptr};
  for (const internal::Node& doc : loaded.documents) {
    internal::decodeDocument(d, doc, std::string(file), limits, out.documents, 0);
  }
  return out;
}

void locate(std::vector<Diagnostic>& diagnostics, const Document& document) {
  for (Diagnostic& d : diagnostics) {
    if (d.file.empty()) d.file = document.file;
    if (d.line > 0) continue;
    std::string path = d.path;
    while (true) {
      auto it = document.positions.find(path);
      if (it != document.positions.end()) {
        d.line = it->second.line;
        d.column = it->second.column;
        break;
      }
      if (path.empty()) {
        d.line = document.position.line;
        d.column = document.position.column;
        break;
      }
      size_t cut = path.find_last_of(".[");
      path = cut == std::string::npos ? std::string() : path.substr(0, cut);
    }
  }
}

std::string toJson(const Rollout& rollout) {
  return internal::encodeTop(kindName(Kind::kRollout), internal::enc(rollout.metadata),
                             internal::enc(rollout.spec), internal::enc(rollout.status))
      .dump();
}

std::string rolloutJsonHead(const Rollout& rollout) {
  // Keys are sorted (nlohmann::json keeps objects in a std::map), so "status" is the last key of
  // toJson's output: the head is the object without it, open at the end.
  std::string head = internal::encodeTop(kindName(Kind::kRollout), internal::enc(rollout.metadata),
                                         internal::enc(rollout.spec), json::object())
                         .dump();
  head.pop_back();  // the closing '}'
  return head;
}

std::string rolloutJsonWithStatus(std::string_view head, const RolloutStatus& status) {
  std::string out;
  out.reserve(head.size() + 1024);
  out += head;
  const size_t mark = out.size();
  out += ",\"status\":";
  internal::write(out, status);
  if (out.size() - mark == sizeof(",\"status\":{}") - 1) out.resize(mark);  // nothing to say
  out += '}';
  return out;
}

void appendJsonEscaped(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 0xf];
        } else {
          out += static_cast<char>(c);
        }
    }
  }
}

std::string toJson(const AnalysisTemplate& t) {
  return internal::encodeTop(
             kindName(t.clusterScoped ? Kind::kClusterAnalysisTemplate : Kind::kAnalysisTemplate),
             internal::enc(t.metadata), internal::enc(t.spec), json::object())
      .dump();
}

std::string toJson(const AnalysisRun& run) {
  return internal::encodeTop(kindName(Kind::kAnalysisRun), internal::enc(run.metadata),
                             internal::enc(run.spec), internal::enc(run.status))
      .dump();
}

std::string toJson(const Application& app) {
  json j = internal::encodeTop(kindName(Kind::kApplication), internal::enc(app.metadata),
                               internal::enc(app.spec), internal::enc(app.status));
  if (app.operation) j["operation"] = internal::enc(*app.operation);
  return j.dump();
}

std::string toJson(const AppProject& project) {
  return internal::encodeTop(kindName(Kind::kAppProject), internal::enc(project.metadata),
                             internal::enc(project.spec), json::object())
      .dump();
}

std::string toJson(const Object& object) {
  return std::visit([](const auto& o) { return toJson(o); }, object);
}

Decoded<Rollout> rolloutFromJson(std::string_view text, std::string_view file) {
  return internal::fromJsonAs<Rollout>(text, file, {kindName(Kind::kRollout)});
}

Decoded<AnalysisTemplate> analysisTemplateFromJson(std::string_view text, std::string_view file) {
  return internal::fromJsonAs<AnalysisTemplate>(
      text, file, {kindName(Kind::kAnalysisTemplate), kindName(Kind::kClusterAnalysisTemplate)});
}

Decoded<AnalysisRun> analysisRunFromJson(std::string_view text, std::string_view file) {
  return internal::fromJsonAs<AnalysisRun>(text, file, {kindName(Kind::kAnalysisRun)});
}

Decoded<Application> applicationFromJson(std::string_view text, std::string_view file) {
  return internal::fromJsonAs<Application>(text, file, {kindName(Kind::kApplication)});
}

Decoded<AppProject> appProjectFromJson(std::string_view text, std::string_view file) {
  return internal::fromJsonAs<AppProject>(text, file, {kindName(Kind::kAppProject)});
}

Decoded<Object> objectFromJson(std::string_view text, std::string_view file) {
  return internal::fromJsonAs<Object>(
      text, file,
      {kindName(Kind::kRollout), kindName(Kind::kAnalysisTemplate),
       kindName(Kind::kClusterAnalysisTemplate), kindName(Kind::kAnalysisRun),
       kindName(Kind::kApplication), kindName(Kind::kAppProject)});
}

}  // namespace ramp::spec
