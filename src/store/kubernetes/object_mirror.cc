#include "store/kubernetes/object_mirror.h"

#include <algorithm>

#include "store/common/store_rules.h"

namespace ramp::store::kubernetes {

ObjectMirror::Observed ObjectMirror::observePut(const ObjectKey& key, std::string json,
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
  if (!started_) {
    objects_[key] = MirrorEntry{std::move(json), resourceVersion, resourceVersion};
    return {std::nullopt, resourceVersion};
  }
  deletedAt_.erase(key);
  Change c{revision_ + 1, ChangeType::kPut, key, json};
  objects_[key] = MirrorEntry{std::move(json), resourceVersion, revision_ + 1};
  return record(std::move(c), resourceVersion);
}

ObjectMirror::Observed ObjectMirror::observeDelete(const ObjectKey& key, int64_t resourceVersion) {
  highestRv_ = std::max(highestRv_, resourceVersion);
  auto it = objects_.find(key);
  if (it == objects_.end() || it->second.resourceVersion > resourceVersion) {
    return {std::nullopt, versionOf(key, ChangeType::kDelete, resourceVersion)};
  }
  deletedAt_[key] = resourceVersion;
  std::string last = std::move(it->second.json);
  objects_.erase(it);
  if (!started_) return {};
  return record(Change{revision_ + 1, ChangeType::kDelete, key, std::move(last)}, resourceVersion);
}

ObjectMirror::Observed ObjectMirror::record(Change change, int64_t resourceVersion) {
  revision_ = change.revision;
  changes_.push_back(change);
  changeRvs_.push_back(resourceVersion);
  while (static_cast<int64_t>(changes_.size()) > retention_) {
    compacted_ = changes_.front().revision;
    changes_.pop_front();
    changeRvs_.pop_front();
  }
  const int64_t version = change.revision;
  return {std::move(change), version};
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
    if (changes_[i].key != key) continue;
    if (changeRvs_[i] == resourceVersion && changes_[i].type == type) return changes_[i].revision;
    // A delete's reply may carry the object's last resourceVersion while the watch reports the
    // delete's own: the key's latest change, a delete at or after it, is that delete.
    if (type == ChangeType::kDelete) {
      return changes_[i].type == ChangeType::kDelete && changeRvs_[i] >= resourceVersion
                 ? changes_[i].revision
                 : 0;
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
    out.items.push_back(StoredObject{it->first, it->second.json, it->second.version});
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
    out.push_back(changes_[i]);
  }
  return out;
}

int64_t EventMirror::observe(const std::string& name, Event event, int64_t resourceVersion) {
  event.replaces = 0;
  if (auto it = ids_.find(name); it != ids_.end()) {
    auto known = events_.find(it->second);
    if (known == events_.end() || known->second.count == event.count) return it->second;
    event.replaces = it->second;  // a repeat folded into it: the old id goes
    names_.erase(it->second);
    events_.erase(known);
  }
  const int64_t id = started_ ? ++nextId_ : resourceVersion;
  if (!started_) nextId_ = std::max(nextId_, resourceVersion);
  event.id = id;
  ids_[name] = id;
  names_[id] = name;
  events_[id] = std::move(event);
  while (static_cast<int64_t>(events_.size()) > retention_) {
    const int64_t oldest = events_.begin()->first;
    ids_.erase(names_[oldest]);
    names_.erase(oldest);
    events_.erase(events_.begin());
  }
  return id;
}

const Event* EventMirror::newestAbout(const ObjectKey& object, std::string* name) const {
  for (auto it = events_.rbegin(); it != events_.rend(); ++it) {
    if (it->second.object != object) continue;
    if (name != nullptr) *name = names_.at(it->first);
    return &it->second;
  }
  return nullptr;
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
    if (query.object && it->second.object != *query.object) continue;
    out.push_back(it->second);
  }
  return out;
}

}  // namespace ramp::store::kubernetes
