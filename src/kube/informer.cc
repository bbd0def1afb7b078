#include "kube/informer.h"

#include <nlohmann/json.hpp>

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

std::vector<ObjectChange> ObjectCache::replace(const std::vector<std::string>& items) {
  std::vector<ObjectChange> changes;
  std::map<std::string, Entry> next;
  for (const std::string& item : items) {
    Slim o = slim(item);
    if (o.key.empty()) continue;
    Entry e{keepObjects_ ? o.json : std::string(), o.resourceVersion};
    auto old = objects_.find(o.key);
    if (old == objects_.end()) {
      changes.push_back({ObjectChange::Type::kAdded, o.key, o.resourceVersion, std::move(o.json)});
    } else if (old->second.resourceVersion != e.resourceVersion) {
      changes.push_back(
          {ObjectChange::Type::kModified, o.key, o.resourceVersion, std::move(o.json)});
    }
    next[o.key] = std::move(e);
  }
  for (const auto& [key, entry] : objects_) {
    if (!next.contains(key)) {
      changes.push_back({ObjectChange::Type::kDeleted, key, entry.resourceVersion, entry.json});
    }
  }
  objects_ = std::move(next);
  return changes;
}

std::vector<ObjectChange> ObjectCache::apply(const WatchEvent& event) {
  if (event.type == WatchEvent::Type::kBookmark || event.type == WatchEvent::Type::kError) {
    return {};
  }
  Slim o = slim(event.object);
  if (o.key.empty()) return {};
  auto old = objects_.find(o.key);
  if (event.type == WatchEvent::Type::kDeleted) {
    if (old == objects_.end()) return {};
    objects_.erase(old);
    return {{ObjectChange::Type::kDeleted, o.key, o.resourceVersion, std::move(o.json)}};
  }
  if (old != objects_.end() && old->second.resourceVersion == event.resourceVersion) return {};
  ObjectChange::Type type =
      old == objects_.end() ? ObjectChange::Type::kAdded : ObjectChange::Type::kModified;
  objects_[o.key] = Entry{keepObjects_ ? o.json : std::string(), event.resourceVersion};
  return {{type, o.key, o.resourceVersion, std::move(o.json)}};
}

std::optional<std::string> ObjectCache::get(const std::string& key) const {
  auto it = objects_.find(key);
  if (!keepObjects_ || it == objects_.end()) return std::nullopt;
  return it->second.json;
}

std::vector<std::string> ObjectCache::list() const {
  std::vector<std::string> out;
  if (!keepObjects_) return out;
  out.reserve(objects_.size());
  for (const auto& [key, e] : objects_) out.push_back(e.json);
  return out;
}

Informer::Informer(Client& client, Clock& clock, ResourceType type, InformerOptions options,
                   OnChange onChange)
    : client_(client),
      clock_(clock),
      type_(std::move(type)),
      options_(std::move(options)),
      onChange_(std::move(onChange)),
      cache_(options_.keepObjects) {}

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
  std::vector<ObjectChange> changes;
  {
    std::lock_guard lock(mu_);
    listError_.reset();
    changes = cache_.replace(listed->items);
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
    wo.timeoutSeconds = options_.watchTimeoutSeconds;
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
