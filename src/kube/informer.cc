#include "kube/informer.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <unordered_set>

namespace ramp::kube {
namespace {

const nlohmann::json* metadataOf(const nlohmann::json& j) {
  if (!j.is_object()) return nullptr;
  auto m = j.find("metadata");
  return m != j.end() && m->is_object() ? &*m : nullptr;
}

std::string stringAt(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

// "namespace/name" ("name" without a namespace) of an object's metadata; "" without a name.
std::string keyIn(const nlohmann::json& metadata) {
  std::string name = stringAt(metadata, "name");
  if (name.empty()) return "";
  std::string ns = stringAt(metadata, "namespace");
  return ns.empty() ? name : ns + "/" + name;
}

// An object as the cache keeps it: its key, resourceVersion and text, the text without
// metadata.managedFields (server-side apply's bookkeeping: often half of an object, and read by
// nothing in ramp). Text without managedFields is kept byte for byte.
struct Slim {
  std::string key;
  std::string resourceVersion;
  std::string json;
};

Slim slim(std::string json) {
  auto j = nlohmann::json::parse(json, nullptr, false);
  const nlohmann::json* m = metadataOf(j);
  if (m == nullptr) return {};
  Slim out;
  out.key = keyIn(*m);
  out.resourceVersion = stringAt(*m, "resourceVersion");
  if (m->contains("managedFields")) {
    j["metadata"].erase("managedFields");
    out.json = j.dump();
  } else {
    out.json = std::move(json);
  }
  return out;
}

}  // namespace

std::string objectKey(std::string_view json) {
  auto j = nlohmann::json::parse(json, nullptr, false);
  const nlohmann::json* m = metadataOf(j);
  return m == nullptr ? "" : keyIn(*m);
}

std::string objectResourceVersion(std::string_view json) {
  auto j = nlohmann::json::parse(json, nullptr, false);
  const nlohmann::json* m = metadataOf(j);
  return m == nullptr ? "" : stringAt(*m, "resourceVersion");
}

uint64_t ObjectCache::packVersion(const std::string& key, const std::string& resourceVersion,
                                  std::unordered_map<std::string, std::string>& texts) {
  const bool canonical = !resourceVersion.empty() && resourceVersion.size() <= 19 &&
                         (resourceVersion[0] != '0' || resourceVersion.size() == 1) &&
                         resourceVersion.find_first_not_of("0123456789") == std::string::npos;
  if (canonical) {
    texts.erase(key);
    return std::stoull(resourceVersion);
  }
  texts[key] = resourceVersion;
  return kTextVersion;
}

std::string ObjectCache::versionOf(const std::string& key, uint64_t packed) const {
  if (packed != kTextVersion) return std::to_string(packed);
  auto it = textVersions_.find(key);
  return it == textVersions_.end() ? std::string() : it->second;
}

std::vector<ObjectChange> ObjectCache::replace(const std::vector<std::string>& items,
                                               const std::vector<std::string>* held,
                                               const std::string& listVersion) {
  std::vector<ObjectChange> changes;
  if (!keepKeys_) {
    std::unordered_set<std::string> listed;
    for (const std::string& item : items) {
      Slim o = slim(item);
      if (o.key.empty()) continue;
      if (held != nullptr) listed.insert(o.key);
      changes.push_back({ObjectChange::Type::kAdded, o.key, o.resourceVersion, std::move(o.json)});
    }
    if (held != nullptr) {
      std::vector<std::string> gone;
      for (const std::string& key : *held) {
        if (!listed.contains(key)) gone.push_back(key);
      }
      std::sort(gone.begin(), gone.end());
      for (std::string& key : gone) {
        changes.push_back({ObjectChange::Type::kDeleted, std::move(key), listVersion, ""});
      }
    }
    return changes;
  }
  std::unordered_map<std::string, uint64_t> next;
  std::unordered_map<std::string, std::string> nextTexts;
  std::map<std::string, std::string> nextObjects;
  next.reserve(items.size());
  for (const std::string& item : items) {
    Slim o = slim(item);
    if (o.key.empty()) continue;
    auto old = versions_.find(o.key);
    std::optional<ObjectChange::Type> type;
    if (old == versions_.end()) {
      type = ObjectChange::Type::kAdded;
    } else if (versionOf(o.key, old->second) != o.resourceVersion) {
      type = ObjectChange::Type::kModified;
    }
    next[o.key] = packVersion(o.key, o.resourceVersion, nextTexts);
    if (keepObjects_) nextObjects[o.key] = o.json;
    if (type) changes.push_back({*type, o.key, o.resourceVersion, std::move(o.json)});
  }
  std::vector<std::string> gone;
  for (const auto& [key, packed] : versions_) {
    if (!next.contains(key)) gone.push_back(key);
  }
  std::sort(gone.begin(), gone.end());  // deletes in key order, whatever the hash order
  for (std::string& key : gone) {
    auto object = objects_.find(key);
    std::string json = object == objects_.end() ? std::string() : std::move(object->second);
    std::string rv = versionOf(key, versions_.at(key));
    changes.push_back(
        {ObjectChange::Type::kDeleted, std::move(key), std::move(rv), std::move(json)});
  }
  versions_ = std::move(next);
  textVersions_ = std::move(nextTexts);
  objects_ = std::move(nextObjects);
  return changes;
}

std::vector<ObjectChange> ObjectCache::apply(const WatchEvent& event) {
  if (event.type == WatchEvent::Type::kBookmark || event.type == WatchEvent::Type::kError) {
    return {};
  }
  Slim o = slim(event.object);
  if (o.key.empty()) return {};
  if (!keepKeys_) {
    const ObjectChange::Type type =
        event.type == WatchEvent::Type::kAdded     ? ObjectChange::Type::kAdded
        : event.type == WatchEvent::Type::kDeleted ? ObjectChange::Type::kDeleted
                                                   : ObjectChange::Type::kModified;
    return {{type, o.key, o.resourceVersion, std::move(o.json)}};
  }
  auto old = versions_.find(o.key);
  if (event.type == WatchEvent::Type::kDeleted) {
    if (old == versions_.end()) return {};
    versions_.erase(old);
    textVersions_.erase(o.key);
    objects_.erase(o.key);
    return {{ObjectChange::Type::kDeleted, o.key, o.resourceVersion, std::move(o.json)}};
  }
  if (old != versions_.end() && versionOf(o.key, old->second) == event.resourceVersion) return {};
  ObjectChange::Type type =
      old == versions_.end() ? ObjectChange::Type::kAdded : ObjectChange::Type::kModified;
  versions_[o.key] = packVersion(o.key, event.resourceVersion, textVersions_);
  if (keepObjects_) objects_[o.key] = o.json;
  return {{type, o.key, o.resourceVersion, std::move(o.json)}};
}

std::optional<std::string> ObjectCache::get(const std::string& key) const {
  auto it = objects_.find(key);
  if (it == objects_.end()) return std::nullopt;
  return it->second;
}

std::vector<std::string> ObjectCache::list() const {
  std::vector<std::string> out;
  out.reserve(objects_.size());
  for (const auto& [key, json] : objects_) out.push_back(json);
  return out;
}

int64_t watchTimeout(int64_t minimum, uint64_t random) {
  if (minimum <= 0) return minimum;
  return minimum + static_cast<int64_t>(random % static_cast<uint64_t>(minimum));
}

Informer::Informer(Client& client, Clock& clock, ResourceType type, InformerOptions options,
                   OnChange onChange)
    : client_(client),
      clock_(clock),
      type_(std::move(type)),
      options_(std::move(options)),
      onChange_(std::move(onChange)),
      cache_(options_.keepObjects, options_.keepKeys),
      random_(std::random_device{}()) {}

Informer::~Informer() { stop(); }

void Informer::start() {
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { run(); });
}

void Informer::requestStop() {
  stopping_ = true;  // the watch notices within a second (Client::watch's keepGoing)
  cv_.notify_all();
}

void Informer::stop() {
  requestStop();
  if (thread_.joinable()) thread_.join();
}

bool Informer::waitForSync(Duration timeout) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, timeout, [&] { return synced_.load() || stopping_.load(); });
  return synced_.load();
}

std::optional<std::string> Informer::get(const std::string& key) const {
  std::lock_guard lock(mu_);
  return cache_.get(key);
}

std::optional<Error> Informer::lastListError() const {
  std::lock_guard lock(mu_);
  return listError_;
}

std::vector<std::string> Informer::list() const {
  std::lock_guard lock(mu_);
  return cache_.list();
}

Status Informer::listOnce(std::string* resourceVersion) {
  ListOptions lo;
  lo.labelSelector = options_.labelSelector;
  auto listed = client_.list(type_, options_.ns, lo);
  lists_.fetch_add(1);
  if (!listed) {
    std::lock_guard lock(mu_);
    listError_ = listed.error();
    return std::unexpected(listed.error());
  }
  std::optional<std::vector<std::string>> held;
  if (options_.heldKeys && !options_.keepKeys) held = options_.heldKeys();
  std::vector<ObjectChange> changes;
  {
    std::lock_guard lock(mu_);
    listError_.reset();
    changes = cache_.replace(listed->items, held ? &*held : nullptr, listed->resourceVersion);
  }
  for (const ObjectChange& c : changes) {
    if (onChange_) onChange_(c);
  }
  *resourceVersion = listed->resourceVersion;
  if (!synced_.exchange(true)) cv_.notify_all();
  return {};
}

void Informer::run() {
  Duration backoff = options_.minBackoff;
  std::string rv;
  bool needList = true;
  while (!stopping_) {
    if (needList) {
      if (auto s = listOnce(&rv); !s) {
        clock_.sleepFor(backoff);
        backoff = std::min(backoff * 2, options_.maxBackoff);
        continue;
      }
      needList = false;
      backoff = options_.minBackoff;
    }
    WatchOptions wo;
    wo.resourceVersion = rv;
    wo.labelSelector = options_.labelSelector;
    wo.timeoutSeconds = watchTimeout(options_.watchTimeoutSeconds, random_());
    Status s = client_.watch(
        type_, options_.ns, wo,
        [&](const WatchEvent& e) {
          if (stopping_) return false;
          if (!e.resourceVersion.empty()) rv = e.resourceVersion;
          std::vector<ObjectChange> changes;
          {
            std::lock_guard lock(mu_);
            changes = cache_.apply(e);
          }
          for (const ObjectChange& c : changes) {
            if (onChange_) onChange_(c);
          }
          return true;
        },
        [this] { return !stopping_.load(); });
    if (stopping_) break;
    if (!s) {
      // An expired resourceVersion needs a new list; anything else a pause, then resume.
      needList = isGone(s.error()) || s.error().code == ErrorCode::kParse;
      clock_.sleepFor(backoff);
      backoff = std::min(backoff * 2, options_.maxBackoff);
    } else {
      backoff = options_.minBackoff;  // the server ended the watch: resume at once
    }
  }
}

}  // namespace ramp::kube
