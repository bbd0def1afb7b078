#include "gitops/diff.h"

#include <algorithm>

#include <map>
#include <nlohmann/json.hpp>

#include "spec/kinds.h"

namespace ramp::gitops {
namespace {

using nlohmann::json;

// The parts of an object a manifest sets.
json comparable(const json& object) {
  json out = json::object();
  if (!object.is_object()) return out;
  const json& meta = object.value("metadata", json::object());
  for (const char* key : {"labels", "annotations"}) {
    if (meta.contains(key) && !meta[key].empty()) out["metadata"][key] = meta[key];
  }
  for (const char* key : {"spec", "operation"}) {
    if (object.contains(key)) out[key] = object[key];
  }
  return out;
}

// "/spec/template/spec/containers/0/image" -> "spec.template.spec.containers[0].image".
std::string fieldPath(const json::json_pointer& pointer, const json& doc) {
  std::string out;
  json::json_pointer at;
  for (const std::string& raw : [&] {
         std::vector<std::string> parts;
         json::json_pointer p = pointer;
         while (!p.empty()) {
           parts.insert(parts.begin(), p.back());
           p.pop_back();
         }
         return parts;
       }()) {
    const bool index = doc.contains(at) && doc.at(at).is_array();
    if (index) {
      out += "[" + raw + "]";
    } else {
      out += (out.empty() ? "" : ".") + raw;
    }
    at.push_back(raw);
  }
  return out;
}

std::string valueAt(const json& doc, const json::json_pointer& p) {
  return doc.contains(p) ? doc.at(p).dump() : "";
}

}  // namespace

store::ObjectKey keyOf(const spec::Document& document) {
  const spec::Kind kind = spec::kindOf(document.object);
  const spec::ObjectMeta& meta = spec::metadataOf(document.object);
  return {spec::kindName(kind), spec::kindInfo(kind).clusterScoped ? "" : meta.namespace_,
          meta.name};
}

std::vector<FieldDiff> diffFields(const std::string& desiredJson, const std::string& liveJson) {
  const json desired = comparable(json::parse(desiredJson, nullptr, false));
  const json live = comparable(json::parse(liveJson, nullptr, false));
  std::vector<FieldDiff> out;
  for (const json& op : json::diff(live, desired)) {
    const json::json_pointer p(op.at("path").get<std::string>());
    // A path names the field in whichever document has it (an add exists only in Git).
    out.push_back(
        {fieldPath(p, live.contains(p) ? live : desired), valueAt(desired, p), valueAt(live, p)});
  }
  return out;
}

std::string describeDiff(const ObjectDiff& diff) {
  switch (diff.change) {
    case Change::kNone: return "";
    case Change::kCreate: return "not in the store";
    case Change::kPrune: return "not in Git (prune)";
    case Change::kUpdate: break;
  }
  if (diff.fields.empty()) return "differs";
  std::string out;
  const size_t shown = std::min(diff.fields.size(), kDescribedFields);
  for (size_t i = 0; i < shown; ++i) {
    const FieldDiff& f = diff.fields[i];
    out += (i == 0 ? "" : "; ") + f.path + ": " + (f.desired.empty() ? "unset" : f.desired) +
           " in Git, " + (f.live.empty() ? "unset" : f.live) + " live";
  }
  if (diff.fields.size() > shown) {
    out += " (+" + std::to_string(diff.fields.size() - shown) + " more)";
  }
  return out;
}

std::vector<ObjectDiff> diffObjects(const std::vector<spec::Document>& desired,
                                    const std::vector<store::StoredObject>& live) {
  std::map<store::ObjectKey, const store::StoredObject*> byKey;
  for (const store::StoredObject& o : live) byKey[o.key] = &o;
  std::vector<ObjectDiff> out;
  for (size_t i = 0; i < desired.size(); ++i) {
    ObjectDiff d;
    d.key = keyOf(desired[i]);
    d.document = i;
    auto it = byKey.find(d.key);
    if (it == byKey.end()) {
      d.change = Change::kCreate;
    } else {
      d.liveVersion = it->second->version;
      d.liveJson = it->second->json;
      d.fields = diffFields(spec::toJson(desired[i].object), it->second->json);
      d.change = d.fields.empty() ? Change::kNone : Change::kUpdate;
      byKey.erase(it);
    }
    out.push_back(std::move(d));
  }
  for (const auto& [key, object] : byKey) {
    ObjectDiff d;
    d.key = key;
    d.change = Change::kPrune;
    d.liveVersion = object->version;
    d.liveJson = object->json;
    out.push_back(std::move(d));
  }
  return out;
}

}  // namespace ramp::gitops
