#pragma once

// Informer: a local copy of one kind's objects, kept current by list then watch (client-go's
// reflector and store), so controllers read memory instead of the API server. The pure part,
// ObjectCache, applies a list (replacing everything, with synthetic deletes for objects that
// vanished while no watch was open) or one watch event, and says what changed. The shell,
// Informer, runs list → watch → resume from the last resourceVersion → relist on 410, with
// backoff on errors, on its own thread, and hands every change to a callback. Objects are kept
// and handed on without metadata.managedFields (server-side apply's bookkeeping, often half of
// an object's text, which nothing in ramp reads), so every cache holds only what is used. An
// owner that keeps its own copy of each object (a mirror, a projection of the fields it reads)
// sets InformerOptions::keepObjects to false: the cache then holds each object's key and
// resourceVersion only — enough to tell a change from a repeat and to find what a relist no
// longer lists — and no object is held twice.
//
// Thread safety: ObjectCache is not synchronised (the Informer guards it). Informer's get(),
// list() and synced() may be called from any thread; the callback runs on the informer's thread.

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "kube/client.h"
#include "ramp/clock.h"

namespace ramp::kube {

struct ObjectChange {
  enum class Type { kAdded, kModified, kDeleted };
  Type type = Type::kAdded;
  std::string key;              // "namespace/name" ("name" for cluster-scoped kinds)
  std::string resourceVersion;  // the new object's (the last known one's for kDeleted)
  // The new object (the last known one for kDeleted). "" for a kDeleted that a relist found
  // (the object vanished while no watch was open) when the cache keeps no objects.
  std::string json;
  bool operator==(const ObjectChange&) const = default;
};

// The "namespace/name" key of an object's JSON; "" when it has no metadata.name.
std::string objectKey(std::string_view json);
// metadata.resourceVersion of an object's JSON; "" when absent.
std::string objectResourceVersion(std::string_view json);

class ObjectCache {
 public:
  // keepObjects false: only keys and resourceVersions are kept (get() and list() find nothing).
  // keepKeys false as well: nothing is kept; replace() reports every item kAdded and no delete,
  // apply() every ADDED, MODIFIED and DELETED as it comes.
  explicit ObjectCache(bool keepObjects = true, bool keepKeys = true)
      : keepObjects_(keepObjects), keepKeys_(keepKeys || keepObjects) {}

  // Replaces the contents with a full list; returns the changes against what was there
  // (objects gone since are kDeleted; unchanged resourceVersions give nothing). A cache that
  // keeps no keys reports every item kAdded and, when given `held` (the keys its owner holds),
  // a kDeleted for each held key the list lacks, with the list's `listVersion` and no object.
  std::vector<ObjectChange> replace(const std::vector<std::string>& items,
                                    const std::vector<std::string>* held = nullptr,
                                    const std::string& listVersion = "");
  // Applies one watch event (ADDED, MODIFIED, DELETED; BOOKMARK and ERROR change nothing).
  // An event whose object is older than or equal to the cached one (same resourceVersion) is
  // not a change.
  std::vector<ObjectChange> apply(const WatchEvent& event);

  std::optional<std::string> get(const std::string& key) const;
  std::vector<std::string> list() const;
  size_t size() const { return versions_.size(); }

 private:
  // A resourceVersion as kept: the number, when it is a canonical decimal (what the API server
  // sends: etcd's revision), in 8 bytes where a string took 32; else kTextVersion, with the
  // text in textVersions_. A cache of keys only (a store's or driver's informer) holds tens of
  // thousands of these.
  static constexpr uint64_t kTextVersion = UINT64_MAX;  // 20 digits: no canonical one is this
  // The kept form of `key`'s resourceVersion: its number (dropping any text `texts` had for
  // `key`), or kTextVersion after recording the text in `texts`.
  static uint64_t packVersion(const std::string& key, const std::string& resourceVersion,
                              std::unordered_map<std::string, std::string>& texts);
  // The resourceVersion `packed` stands for ("" if a text is missing, which packVersion
  // never leaves).
  std::string versionOf(const std::string& key, uint64_t packed) const;

  bool keepObjects_;
  bool keepKeys_;
  std::unordered_map<std::string, uint64_t> versions_;         // every key held
  std::unordered_map<std::string, std::string> textVersions_;  // the rare non-numeric ones
  std::map<std::string, std::string> objects_;                 // key -> text (keepObjects_)
};

struct InformerOptions {
  std::string ns;  // "" = every namespace
  std::string labelSelector;
  // Each watch asks the server to end it after a time between this and twice this
  // (watchTimeout()), as client-go's reflector does between 5 and 10 minutes: informers started
  // together do not all open their watches again at the same moment.
  int64_t watchTimeoutSeconds = 300;
  Duration minBackoff = Duration(500);
  Duration maxBackoff = Duration(10000);
  // False: the cache keeps no object text (see the file comment); get() and list() find nothing.
  bool keepObjects = true;
  // False too (with keepObjects false): not even keys. Every list hands on each object as
  // kAdded, the watch each event as it comes: for an owner that tells a repeat or an older state
  // apart itself and keeps the objects' keys anyway (a driver's ReplicaSets and Pods) or can do
  // without deletes found by a relist (the store's Events, tens of thousands of keys).
  bool keepKeys = true;
  // With keepKeys false: the keys the owner holds, asked for on the informer's thread after each
  // list. Each one the list lacks is handed on as kDeleted with the list's resourceVersion and
  // no object — an owner holding a newer state (a write of its own after the list) keeps it.
  // Unset: a relist reports no delete.
  std::function<std::vector<std::string>()> heldKeys;
};

// The timeout of one watch: `minimum` plus `random` modulo `minimum` (minimum > 0; else
// `minimum`). Pure: the informer passes a random number of its own.
int64_t watchTimeout(int64_t minimum, uint64_t random);

class Informer {
 public:
  using OnChange = std::function<void(const ObjectChange&)>;

  // Does not start: call start(). `client` and `clock` must outlive the informer.
  Informer(Client& client, Clock& clock, ResourceType type, InformerOptions options,
           OnChange onChange);
  ~Informer();  // stop()

  // Starts the list+watch thread.
  void start();
  // Ends the watch (within about a second) and a backoff pause, and joins.
  void stop();
  // Asks the thread to end without waiting for it (stop() then joins): several informers end
  // in about a second together instead of a second each.
  void requestStop();

  // True once the first list has been applied.
  bool synced() const { return synced_.load(); }
  // Blocks until synced() or `timeout` passes (real time). Returns synced().
  bool waitForSync(Duration timeout);

  std::optional<std::string> get(const std::string& key) const;
  std::vector<std::string> list() const;

  // Why the informer has not listed: the error of the last list when it failed (a 403 of
  // missing RBAC, a 404 of a missing CRD…); nullopt once a list succeeds, and before the first.
  std::optional<Error> lastListError() const;

  // Lists done (the first and every relist after a 410 or an error) and watch restarts.
  int64_t lists() const { return lists_.load(); }

 private:
  void run();
  Status listOnce(std::string* resourceVersion);

  Client& client_;
  Clock& clock_;
  const ResourceType type_;
  const InformerOptions options_;
  const OnChange onChange_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  ObjectCache cache_;
  std::optional<Error> listError_;  // guarded by mu_
  std::mt19937_64 random_;          // for watchTimeout(); used on the informer's thread only
  std::atomic<bool> stopping_{false};
  std::atomic<bool> synced_{false};
  std::atomic<int64_t> lists_{0};
  std::thread thread_;
};

}  // namespace ramp::kube
