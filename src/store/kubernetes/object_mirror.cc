#include "store/kubernetes/object_mirror.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "store/common/store_rules.h"

namespace ramp::store::kubernetes {

ObjectMirror::Observed ObjectMirror::observePut(const ObjectKey& key, std::string_view json,
                                                int64_t resourceVersion) {
  highestRv_ = std::max(highestRv_, resourceVersion);
  auto it = objects_.find(key);
  if (it != objects_.end() && it->second.resourceVersion >= resourceVersion) {
    return {std::nullopt, versionOf(key, ChangeType::kPut, resourceVersion)};
  }
  if (it == objects_.end()) {
    auto d = deletedAt_.find(key);
    if (d != deletedAt_.end() && d->second >= resourceVersion) return {};
  }
  auto text = std::make_shared<const CompactText>(json);
  if (!started_) {
    objects_[key] = MirrorEntry{std::move(text), resourceVersion, resourceVersion};
    return {std::nullopt, resourceVersion};
  }
  deletedAt_.erase(key);
  objects_[key] = MirrorEntry{text, resourceVersion, revision_ + 1};
  return record(Logged{revision_ + 1, ChangeType::kPut, key, std::move(text), resourceVersion});
}

ObjectMirror::Observed ObjectMirror::observeDelete(const ObjectKey& key, int64_t resourceVersion) {
  highestRv_ = std::max(highestRv_, resourceVersion);
  auto it = objects_.find(key);
  if (it == objects_.end() || it->second.resourceVersion > resourceVersion) {
    return {std::nullopt, versionOf(key, ChangeType::kDelete, resourceVersion)};
  }
  deletedAt_[key] = resourceVersion;
  std::shared_ptr<const CompactText> last = std::move(it->second.text);
  objects_.erase(it);
  if (!started_) return {};
  return record(Logged{revision_ + 1, ChangeType::kDelete, key, std::move(last), resourceVersion});
}

ObjectMirror::Observed ObjectMirror::record(Logged change) {
  revision_ = change.revision;
  Observed out{change.change(), change.revision};
  changes_.push_back(std::move(change));
  while (static_cast<int64_t>(changes_.size()) > retention_) {
    compacted_ = changes_.front().revision;
    changes_.pop_front();
  }
  return out;
}

int64_t ObjectMirror::versionOf(const ObjectKey& key, ChangeType type,
                                int64_t resourceVersion) const {
  if (type == ChangeType::kPut) {
    auto it = objects_.find(key);
    if (it != objects_.end() && it->second.resourceVersion == resourceVersion) {
      return it->second.version;
    }
  }
  for (size_t i = changes_.size(); i-- > 0;) {
    const Logged& c = changes_[i];
    if (c.key != key) continue;
    if (c.resourceVersion == resourceVersion && c.type == type) return c.revision;
    // A delete's reply may carry the object's last resourceVersion while the watch reports the
    // delete's own: the key's latest change, a delete at or after it, is that delete.
    if (type == ChangeType::kDelete) {
      return c.type == ChangeType::kDelete && c.resourceVersion >= resourceVersion ? c.revision : 0;
    }
  }
  return 0;
}

void ObjectMirror::start(int64_t base) {
  if (started_) return;
  started_ = true;
  revision_ = compacted_ = std::max(base, highestRv_);
}

const MirrorEntry* ObjectMirror::find(const ObjectKey& key) const {
  auto it = objects_.find(key);
  return it == objects_.end() ? nullptr : &it->second;
}

ObjectList ObjectMirror::list(const std::string& kind, const std::string& namespace_) const {
  ObjectList out;
  out.revision = revision_;
  auto it = objects_.lower_bound(ObjectKey{kind, namespace_, ""});
  for (; it != objects_.end() && it->first.kind == kind; ++it) {
    if (!namespace_.empty() && it->first.namespace_ != namespace_) break;
    out.items.push_back(StoredObject{it->first, it->second.json(), it->second.version});
  }
  return out;
}

Result<std::vector<Change>> ObjectMirror::changesSince(int64_t revision, int64_t limit) const {
  if (auto s = checkWatchWindow(revision, compacted_, revision_); !s) {
    return std::unexpected(s.error());
  }
  std::vector<Change> out;
  // changes_ holds consecutive revisions compacted_+1 .. revision_.
  for (size_t i = static_cast<size_t>(revision - compacted_);
       i < changes_.size() && static_cast<int64_t>(out.size()) < limit; ++i) {
    out.push_back(changes_[i].change());
  }
  return out;
}

namespace {

// The deflated part of an event (EventMirror::Stored::body).
CompactText eventBody(const std::string& name, const Event& e) {
  const nlohmann::json body = {{"n", name},       {"y", e.type == EventType::kWarning ? 1 : 0},
                               {"r", e.reason},   {"m", e.message},
                               {"e", e.evidence}, {"a", e.actor},
                               {"c", e.count},    {"f", e.firstTime.time_since_epoch().count()},
                               {"p", e.replaces}};
  return CompactText(body.dump());
}

}  // namespace

Event EventMirror::decode(int64_t id, const Stored& stored, std::string* name) const {
  Event e;
  e.id = id;
  e.time = stored.time;
  e.object = *stored.object;
  const auto body = nlohmann::json::parse(stored.body.text(), nullptr, false);
  if (!body.is_object()) return e;  // never: only eventBody() wrote it
  if (name != nullptr) *name = body.value("n", "");
  e.type = body.value("y", 0) == 1 ? EventType::kWarning : EventType::kNormal;
  e.reason = body.value("r", "");
  e.message = body.value("m", "");
  e.evidence = body.value("e", "");
  e.actor = body.value("a", "");
  e.count = body.value("c", int64_t{1});
  e.firstTime = Time(Duration(body.value("f", int64_t{0})));
  e.replaces = body.value("p", int64_t{0});
  return e;
}

namespace {

uint64_t nameHash(const std::string& name) { return std::hash<std::string>{}(name); }

}  // namespace

std::map<int64_t, EventMirror::Stored>::iterator EventMirror::find(const std::string& name,
                                                                   Event* event) {
  auto [first, last] = ids_.equal_range(nameHash(name));
  for (auto id = first; id != last; ++id) {
    auto it = events_.find(id->second);
    if (it == events_.end()) continue;
    std::string known;
    *event = decode(it->first, it->second, &known);
    if (known == name) return it;
  }
  return events_.end();
}

void EventMirror::erase(std::map<int64_t, Stored>::iterator it) {
  auto [first, last] = ids_.equal_range(it->second.nameHash);
  for (auto id = first; id != last; ++id) {
    if (id->second == it->first) {
      ids_.erase(id);
      break;
    }
  }
  auto about = objects_.find(*it->second.object);
  events_.erase(it);
  if (about == objects_.end()) return;
  // The newest event of an object is newer than its others: when it goes, they are gone.
  if (--about->second.count <= 0) objects_.erase(about);
}

int64_t EventMirror::observe(const std::string& name, Event event, int64_t resourceVersion) {
  Event seen;
  auto known = find(name, &seen);
  if (known != events_.end() &&
      (seen.count == event.count || resourceVersion <= known->second.resourceVersion)) {
    return known->first;
  }
  return keep(name, std::move(event), resourceVersion, known);
}

int64_t EventMirror::record(const std::string& name, Event event) {
  Event seen;
  auto known = find(name, &seen);
  return keep(name, std::move(event), kPending, known);
}

void EventMirror::confirm(const std::string& name, int64_t count, int64_t resourceVersion) {
  Event seen;
  auto known = find(name, &seen);
  if (known != events_.end() && known->second.resourceVersion == kPending && seen.count == count) {
    known->second.resourceVersion = resourceVersion;
  }
}

int64_t EventMirror::keep(const std::string& name, Event event, int64_t resourceVersion,
                          std::map<int64_t, Stored>::iterator known) {
  event.replaces = 0;
  if (known != events_.end()) {
    event.replaces = known->first;  // a repeat folded into it: the old id goes
    erase(known);
  }
  const int64_t id = started_ ? ++nextId_ : resourceVersion;
  if (!started_) nextId_ = std::max(nextId_, resourceVersion);
  event.id = id;
  auto [about, added] = objects_.try_emplace(event.object);
  ++about->second.count;
  about->second.newest = std::max(about->second.newest, id);
  const uint64_t hash = nameHash(name);
  ids_.emplace(hash, id);
  events_[id] = Stored{event.time, &about->first, hash, resourceVersion, eventBody(name, event)};
  while (static_cast<int64_t>(events_.size()) > retention_) erase(events_.begin());
  return id;
}

void EventMirror::forget(const std::string& name) {
  Event seen;
  if (auto known = find(name, &seen); known != events_.end()) erase(known);
}

std::optional<Event> EventMirror::newestAbout(const ObjectKey& object, std::string* name) const {
  auto about = objects_.find(object);
  if (about == objects_.end()) return std::nullopt;
  auto it = events_.find(about->second.newest);
  if (it == events_.end()) return std::nullopt;
  return decode(it->first, it->second, name);
}

void EventMirror::start(int64_t base) {
  if (started_) return;
  started_ = true;
  nextId_ = std::max(nextId_, base);
}

std::vector<Event> EventMirror::list(const EventQuery& query) const {
  std::vector<Event> out;
  for (auto it = events_.upper_bound(query.sinceId);
       it != events_.end() && static_cast<int64_t>(out.size()) < query.limit; ++it) {
    if (query.object && *it->second.object != *query.object) continue;
    out.push_back(decode(it->first, it->second, nullptr));
  }
  return out;
}

}  // namespace ramp::store::kubernetes
