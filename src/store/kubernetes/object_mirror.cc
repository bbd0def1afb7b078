#include "store/kubernetes/object_mirror.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "common/repack_buffer.h"
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

namespace {

void putKey(RepackBuffer& buffer, const ObjectKey& key) {
  buffer.put(key.kind);
  buffer.put(key.namespace_);
  buffer.put(key.name);
}

ObjectKey takeKey(RepackBuffer& buffer) {
  ObjectKey key;
  key.kind = buffer.take();
  key.namespace_ = buffer.take();
  key.name = buffer.take();
  return key;
}

size_t keySize(const ObjectKey& key) {
  return RepackBuffer::sizeOf(key.kind) + RepackBuffer::sizeOf(key.namespace_) +
         RepackBuffer::sizeOf(key.name);
}

}  // namespace

void ObjectMirror::repack() {
  // Each text once, by identity: the log's entries share their object's.
  std::vector<const CompactText*> texts;
  texts.reserve(objects_.size() + changes_.size());
  for (const auto& [key, entry] : objects_) texts.push_back(entry.text.get());
  for (const Logged& c : changes_) texts.push_back(c.text.get());
  std::sort(texts.begin(), texts.end());
  texts.erase(std::unique(texts.begin(), texts.end()), texts.end());
  const auto indexOf = [&](const CompactText* text) {
    return static_cast<uint64_t>(std::lower_bound(texts.begin(), texts.end(), text) -
                                 texts.begin());
  };
  size_t bytes = 0;
  for (const CompactText* t : texts) {
    bytes += sizeof(uint64_t) + RepackBuffer::sizeOf(t ? t->stored() : std::string_view());
  }
  for (const auto& [key, entry] : objects_) bytes += keySize(key) + 3 * sizeof(uint64_t);
  for (const auto& [key, rv] : deletedAt_) bytes += keySize(key) + sizeof(uint64_t);
  for (const Logged& c : changes_) bytes += keySize(c.key) + 4 * sizeof(uint64_t);

  RepackBuffer buffer(bytes);
  for (const CompactText* t : texts) {
    // A null text (none is made, but the type allows it) is size 0 with no bytes, kept null.
    buffer.putNumber(t ? t->size() + 1 : 0);
    buffer.put(t ? t->stored() : std::string_view());
  }
  for (const auto& [key, entry] : objects_) {
    putKey(buffer, key);
    buffer.putNumber(indexOf(entry.text.get()));
    buffer.putNumber(static_cast<uint64_t>(entry.resourceVersion));
    buffer.putNumber(static_cast<uint64_t>(entry.version));
  }
  for (const auto& [key, rv] : deletedAt_) {
    putKey(buffer, key);
    buffer.putNumber(static_cast<uint64_t>(rv));
  }
  for (const Logged& c : changes_) {
    putKey(buffer, c.key);
    buffer.putNumber(static_cast<uint64_t>(c.revision));
    buffer.putNumber(static_cast<uint64_t>(c.type));
    buffer.putNumber(indexOf(c.text.get()));
    buffer.putNumber(static_cast<uint64_t>(c.resourceVersion));
  }
  const size_t textCount = texts.size();
  const size_t objectCount = objects_.size();
  const size_t deletedCount = deletedAt_.size();
  const size_t changeCount = changes_.size();
  // Everything freed before anything is made again (see RepackBuffer).
  std::vector<const CompactText*>().swap(texts);
  objects_.clear();
  deletedAt_.clear();
  std::deque<Logged>().swap(changes_);

  std::vector<std::shared_ptr<const CompactText>> made;
  made.reserve(textCount);
  for (size_t i = 0; i < textCount; ++i) {
    const uint64_t size = buffer.takeNumber();
    const std::string_view stored = buffer.take();
    made.push_back(
        size == 0 ? nullptr
                  : std::make_shared<const CompactText>(CompactText::fromStored(stored, size - 1)));
  }
  for (size_t i = 0; i < objectCount; ++i) {
    ObjectKey key = takeKey(buffer);
    MirrorEntry entry;
    entry.text = made.at(buffer.takeNumber());
    entry.resourceVersion = static_cast<int64_t>(buffer.takeNumber());
    entry.version = static_cast<int64_t>(buffer.takeNumber());
    objects_.emplace_hint(objects_.end(), std::move(key), std::move(entry));
  }
  for (size_t i = 0; i < deletedCount; ++i) {
    ObjectKey key = takeKey(buffer);
    deletedAt_.emplace_hint(deletedAt_.end(), std::move(key),
                            static_cast<int64_t>(buffer.takeNumber()));
  }
  for (size_t i = 0; i < changeCount; ++i) {
    Logged c;
    c.key = takeKey(buffer);
    c.revision = static_cast<int64_t>(buffer.takeNumber());
    c.type = static_cast<ChangeType>(buffer.takeNumber());
    c.text = made.at(buffer.takeNumber());
    c.resourceVersion = static_cast<int64_t>(buffer.takeNumber());
    changes_.push_back(std::move(c));
  }
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

std::vector<std::string> ObjectMirror::informerKeys(const std::string& kind) const {
  std::vector<std::string> out;
  auto it = objects_.lower_bound(ObjectKey{kind, "", ""});
  for (; it != objects_.end() && it->first.kind == kind; ++it) {
    const ObjectKey& key = it->first;
    out.push_back(key.namespace_.empty() ? key.name : key.namespace_ + "/" + key.name);
  }
  return out;
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

EventMirror::Found EventMirror::find(const std::string& name, Event* event) {
  auto [first, last] = ids_.equal_range(nameHash(name));
  for (auto id = first; id != last; ++id) {
    for (Events* in : {&events_, &kept_}) {
      auto it = in->find(id->second);
      if (it == in->end()) continue;
      std::string known;
      *event = decode(it->first, it->second, &known);
      if (known == name) return Found{in, it};
    }
  }
  return Found{};
}

void EventMirror::erase(Found found) {
  auto it = found.it;
  auto [first, last] = ids_.equal_range(it->second.nameHash);
  for (auto id = first; id != last; ++id) {
    if (id->second == it->first) {
      ids_.erase(id);
      break;
    }
  }
  auto about = objects_.find(*it->second.object);
  found.in->erase(it);
  if (about == objects_.end()) return;
  // The newest event of an object is newer than its others: when it goes, they are gone.
  if (--about->second.count <= 0) objects_.erase(about);
}

void EventMirror::trim() {
  while (static_cast<int64_t>(events_.size()) > window_) {
    auto oldest = events_.begin();
    letGoThrough_ = std::max(letGoThrough_, oldest->first);
    auto about = objects_.find(*oldest->second.object);
    // An object's newest (a repeat folds into it) and an event not written yet (not listed by
    // the API server yet) stay.
    if ((about != objects_.end() && about->second.newest == oldest->first) ||
        oldest->second.resourceVersion == kPending) {
      kept_.insert(events_.extract(oldest));
    } else {
      erase(Found{&events_, oldest});
    }
  }
  for (auto it = kept_.begin();
       it != kept_.end() && static_cast<int64_t>(kept_.size()) > seriesKept_;) {
    if (it->second.resourceVersion == kPending) {  // not written yet: it stays
      ++it;
      continue;
    }
    erase(Found{&kept_, it++});
  }
}

int64_t EventMirror::observe(const std::string& name, Event event, int64_t resourceVersion,
                             bool recordedHere) {
  Event seen;
  Found known = find(name, &seen);
  const int64_t seenBefore = highestObserved_;
  highestObserved_ = std::max(highestObserved_, resourceVersion);
  // A watch delivers in resourceVersion order: an Event unknown here and not newer than one
  // already observed was observed before and has left the window (a relist hands on every
  // Event again); one this mirror recorded was listed when it was written.
  if (known.in == nullptr && started_ && (recordedHere || resourceVersion <= seenBefore)) {
    return 0;
  }
  if (known.in != nullptr &&
      (seen.count == event.count || resourceVersion <= known.it->second.resourceVersion)) {
    return known.it->first;
  }
  return keep(name, std::move(event), resourceVersion, known);
}

int64_t EventMirror::record(const std::string& name, Event event) {
  Event seen;
  Found known = find(name, &seen);
  return keep(name, std::move(event), kPending, known);
}

void EventMirror::confirm(const std::string& name, int64_t count, int64_t resourceVersion) {
  Event seen;
  Found known = find(name, &seen);
  if (known.in != nullptr && known.it->second.resourceVersion == kPending && seen.count == count) {
    known.it->second.resourceVersion = resourceVersion;
    // Kept past the window only while it was not written, unless it is its object's newest.
    auto about = objects_.find(*known.it->second.object);
    if (known.in == &kept_ &&
        (about == objects_.end() || about->second.newest != known.it->first)) {
      erase(known);
    }
  }
}

int64_t EventMirror::keep(const std::string& name, Event event, int64_t resourceVersion,
                          Found known) {
  event.replaces = 0;
  if (known.in != nullptr) {
    event.replaces = known.it->first;  // a repeat folded into it: the old id goes
    erase(known);
  }
  const int64_t id = started_ ? ++nextId_ : resourceVersion;
  if (!started_) nextId_ = std::max(nextId_, resourceVersion);
  event.id = id;
  auto [about, added] = objects_.try_emplace(event.object);
  if (about->second.newest != 0 && about->second.newest < id) {
    // The object's newest until now, if it had left the window, is no longer worth keeping
    // (unless it is still to be written).
    if (auto before = kept_.find(about->second.newest);
        before != kept_.end() && before->second.resourceVersion != kPending) {
      erase(Found{&kept_, before});
      about = objects_.try_emplace(event.object).first;  // erase() may have removed it
    }
  }
  ++about->second.count;
  about->second.newest = std::max(about->second.newest, id);
  const uint64_t hash = nameHash(name);
  ids_.emplace(hash, id);
  // Into the window, even an event loaded older than what it let go: trim() sorts it out.
  events_[id] = Stored{event.time, &about->first, hash, resourceVersion, eventBody(name, event)};
  trim();
  return id;
}

void EventMirror::repack() {
  // Each event names its object by the address of the object's key in objects_: by position
  // in objects_ in the buffer.
  std::vector<std::pair<const ObjectKey*, uint64_t>> positions;
  positions.reserve(objects_.size());
  for (const auto& [key, about] : objects_) positions.emplace_back(&key, positions.size());
  std::sort(positions.begin(), positions.end());
  constexpr uint64_t kNone = UINT64_MAX;
  const auto positionOf = [&](const ObjectKey* key) {
    auto it =
        std::lower_bound(positions.begin(), positions.end(), std::make_pair(key, uint64_t{0}));
    return it != positions.end() && it->first == key ? it->second : kNone;
  };
  size_t bytes = 3 * sizeof(uint64_t) + ids_.size() * 2 * sizeof(uint64_t);
  for (const auto& [key, about] : objects_) bytes += keySize(key) + 2 * sizeof(uint64_t);
  for (const Events* events : {&events_, &kept_}) {
    for (const auto& [id, stored] : *events) {
      bytes += 6 * sizeof(uint64_t) + RepackBuffer::sizeOf(stored.body.stored());
    }
  }
  RepackBuffer buffer(bytes);
  buffer.putNumber(objects_.size());
  for (const auto& [key, about] : objects_) {
    putKey(buffer, key);
    buffer.putNumber(static_cast<uint64_t>(about.count));
    buffer.putNumber(static_cast<uint64_t>(about.newest));
  }
  for (const Events* events : {&events_, &kept_}) {
    buffer.putNumber(events->size());
    for (const auto& [id, stored] : *events) {
      buffer.putNumber(static_cast<uint64_t>(id));
      buffer.putNumber(static_cast<uint64_t>(stored.time.time_since_epoch().count()));
      buffer.putNumber(positionOf(stored.object));
      buffer.putNumber(stored.nameHash);
      buffer.putNumber(static_cast<uint64_t>(stored.resourceVersion));
      buffer.putNumber(stored.body.size());
      buffer.put(stored.body.stored());
    }
  }
  const size_t idCount = ids_.size();
  for (const auto& [hash, id] : ids_) {
    buffer.putNumber(hash);
    buffer.putNumber(static_cast<uint64_t>(id));
  }
  // Everything freed before anything is made again (see RepackBuffer).
  std::vector<std::pair<const ObjectKey*, uint64_t>>().swap(positions);
  objects_.clear();
  events_.clear();
  kept_.clear();
  std::unordered_multimap<uint64_t, int64_t>().swap(ids_);

  std::vector<const ObjectKey*> keys(buffer.takeNumber());
  for (const ObjectKey*& made : keys) {
    ObjectKey key = takeKey(buffer);
    About about;
    about.count = static_cast<int64_t>(buffer.takeNumber());
    about.newest = static_cast<int64_t>(buffer.takeNumber());
    made = &objects_.emplace_hint(objects_.end(), std::move(key), about)->first;
  }
  for (Events* events : {&events_, &kept_}) {
    const uint64_t count = buffer.takeNumber();
    for (uint64_t i = 0; i < count; ++i) {
      const auto id = static_cast<int64_t>(buffer.takeNumber());
      Stored stored;
      stored.time = Time(Duration(static_cast<int64_t>(buffer.takeNumber())));
      const uint64_t position = buffer.takeNumber();
      stored.object = position == kNone ? nullptr : keys.at(position);
      stored.nameHash = buffer.takeNumber();
      stored.resourceVersion = static_cast<int64_t>(buffer.takeNumber());
      const uint64_t size = buffer.takeNumber();
      stored.body = CompactText::fromStored(buffer.take(), size);
      events->emplace_hint(events->end(), id, std::move(stored));
    }
  }
  ids_.reserve(idCount);
  for (size_t i = 0; i < idCount; ++i) {
    const uint64_t hash = buffer.takeNumber();
    ids_.emplace(hash, static_cast<int64_t>(buffer.takeNumber()));
  }
}

void EventMirror::forget(const std::string& name) {
  Event seen;
  if (Found known = find(name, &seen); known.in != nullptr) erase(known);
}

bool EventMirror::holds(const std::string& name) {
  Event seen;
  return find(name, &seen).in != nullptr;
}

std::optional<Event> EventMirror::newestAbout(const ObjectKey& object, std::string* name) const {
  auto about = objects_.find(object);
  if (about == objects_.end()) return std::nullopt;
  for (const Events* in : {&events_, &kept_}) {
    auto it = in->find(about->second.newest);
    if (it != in->end()) return decode(it->first, it->second, name);
  }
  return std::nullopt;
}

void EventMirror::start(int64_t base) {
  if (started_) return;
  started_ = true;
  nextId_ = std::max(nextId_, base);
  base_ = nextId_;
}

std::optional<std::vector<Event>> EventMirror::list(const EventQuery& query) const {
  if (query.sinceId < letGoThrough_) return std::nullopt;
  std::vector<Event> out;
  for (auto it = events_.upper_bound(query.sinceId);
       it != events_.end() && static_cast<int64_t>(out.size()) < query.limit; ++it) {
    if (query.object && *it->second.object != *query.object) continue;
    out.push_back(decode(it->first, it->second, nullptr));
  }
  return out;
}

std::vector<std::pair<std::string, Event>> EventMirror::held(
    const std::optional<ObjectKey>& object) const {
  std::vector<std::pair<std::string, Event>> out;
  for (const Events* in : {&kept_, &events_}) {  // every kept one is older than the window
    for (const auto& [id, stored] : *in) {
      if (object && *stored.object != *object) continue;
      std::string name;
      Event e = decode(id, stored, &name);
      out.emplace_back(std::move(name), std::move(e));
    }
  }
  return out;
}

}  // namespace ramp::store::kubernetes
