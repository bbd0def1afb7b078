#pragma once

// ObjectMirror and EventMirror: the Kubernetes store's local view of what the API server holds,
// as plain data structures with no I/O, so every ordering rule is a table test.
//
// ObjectMirror keeps each object's JSON and resourceVersion and numbers the changes it sees with
// the store's own revisions (state_store.h, "Revisions"). Observations come from two places: the
// store's own writes (the server's reply) and the informers (one watch per kind, a relist after
// 410 Gone). The same state can arrive from both, in either order, and a watch can deliver an
// object's older state after the store has written a newer one; the rule that makes this safe
// is the resourceVersion, which grows with every write of one object: an observation whose
// resourceVersion is not newer than what the mirror holds for the key (or, after a delete, than
// the delete) changes nothing. A delete applies when it is not older than the held state (a
// relist's synthetic delete carries the last known resourceVersion).
//
// Before start(), the initial lists are loaded: each object's version is its resourceVersion and
// no change is recorded. start(base) then numbers every later change base+1, base+2, …; base is
// at least every resourceVersion loaded, so versions stay unique.
//
// EventMirror does the same for events, keyed by the Event object's name: ids are the
// resourceVersions of the events loaded before start(), then base+1, …. It is a window, not the
// log: the API server keeps every Event (for its --event-ttl, an hour by default), the mirror
// the newest `window` of them, each deflated but for its time and object, and of each object
// whose events left the window its newest one (a repeat of it is folded into its Event; of the
// kEventSeriesKept objects with the newest such events), and
// every one the store has not written yet (record() without confirm()). A list
// the window cannot answer whole (one reaching back past what it let go) is the store's to ask
// the API server for (list() says so); the events it holds are merged into that answer.
//
// Thread safety: none; the store guards each mirror with its mutex.

#include <climits>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/compact_text.h"
#include "ramp/store/state_store.h"

namespace ramp::store::kubernetes {

// One object's state. Its text is kept deflated (CompactText: a mirror of thousands of Rollouts
// is mostly cold text) and shared with the change log's entry for the same state, so an object
// the log still holds is kept once.
struct MirrorEntry {
  std::shared_ptr<const CompactText> text;
  int64_t resourceVersion = 0;
  int64_t version = 0;  // the store's revision of this state
  std::string json() const { return text->text(); }
};

class ObjectMirror {
 public:
  explicit ObjectMirror(int64_t changeLogRetention) : retention_(changeLogRetention) {}

  // The observation's outcome: the change it recorded (nullopt = none: already known, older, or
  // before start()), and the version the key's state at `resourceVersion` has (0 when the mirror
  // never held that state: a newer one replaced it before this observation arrived, or the
  // change log no longer holds it).
  struct Observed {
    std::optional<Change> change;
    int64_t version = 0;
  };

  // The server holds `json` for `key` at `resourceVersion`.
  Observed observePut(const ObjectKey& key, std::string_view json, int64_t resourceVersion);
  // The server deleted `key` at `resourceVersion`.
  Observed observeDelete(const ObjectKey& key, int64_t resourceVersion);

  // Ends the initial load: later changes take revisions base+1, … (base is raised to the
  // highest resourceVersion loaded if lower). Changes before base are "too old".
  void start(int64_t base);
  bool started() const { return started_; }

  const MirrorEntry* find(const ObjectKey& key) const;
  // The informer keys ("namespace/name", or "name" for a cluster-scoped kind) of every object
  // of `kind` held: what a relist that no longer lists one reports as deleted.
  std::vector<std::string> informerKeys(const std::string& kind) const;
  // Every object of `kind` in `namespace_` ("" = all), sorted, with the current revision.
  ObjectList list(const std::string& kind, const std::string& namespace_) const;
  int64_t revision() const { return revision_; }
  int64_t highestResourceVersion() const { return highestRv_; }
  // As StateStore::changesSince (arguments already validated).
  Result<std::vector<Change>> changesSince(int64_t revision, int64_t limit) const;

  // Makes the objects and the change log again, each key and text allocated anew in a row
  // (common/repack_buffer.h), a text the log shares with an object still shared. What the
  // mirror holds and answers is the same after it; a MirrorEntry copied out keeps its text.
  void repack();

 private:
  // A change as the log keeps it: the text shared with the MirrorEntry of the same state.
  struct Logged {
    int64_t revision = 0;
    ChangeType type = ChangeType::kPut;
    ObjectKey key;
    std::shared_ptr<const CompactText> text;
    int64_t resourceVersion = 0;
    Change change() const { return Change{revision, type, key, text->text()}; }
  };

  Observed record(Logged change);
  int64_t versionOf(const ObjectKey& key, ChangeType type, int64_t resourceVersion) const;

  const int64_t retention_;
  bool started_ = false;
  std::map<ObjectKey, MirrorEntry> objects_;
  std::map<ObjectKey, int64_t> deletedAt_;  // resourceVersion of the last delete seen per key
  std::deque<Logged> changes_;              // revisions (compacted_, revision_]
  int64_t revision_ = 0;
  int64_t compacted_ = 0;
  int64_t highestRv_ = 0;
};

// How many objects' newest events an EventMirror keeps past its window for repeats to fold
// into: as many series as client-go's event correlator remembers (its LRU cache of 4,096). A
// repeat about an object whose newest was let go is a new Event, as it is for client-go.
inline constexpr int64_t kEventSeriesKept = 4'096;

class EventMirror {
 public:
  explicit EventMirror(int64_t window, int64_t seriesKept = kEventSeriesKept)
      : window_(window), seriesKept_(seriesKept) {}

  // The Event object `name` records `event` (the store's informer of Events, which keeps no keys:
  // a relist hands every Event on again). Returns its id: the one it already has if it was
  // seen before with the same count, or at a resourceVersion not older than `resourceVersion`
  // (a watch's late echo of a state the store has already written a newer count over changes
  // nothing); a new one when its count changed (a repeat folded into it: the event's
  // `replaces` is then the old id, which is no longer listed). After start(), 0 (nothing kept)
  // for an Event not held that was seen and let go: not newer than every one observed before,
  // or `recordedHere` (it carries an id this mirror's record() gave: the late echo of the
  // store's own write).
  int64_t observe(const std::string& name, Event event, int64_t resourceVersion,
                  bool recordedHere = false);
  // The store itself is writing `event` as the Event object `name` (a new one, or a repeat
  // folded into the object's newest, whose name it then has): listed from now on, before the API
  // server has it, so a reader sees its own writes while the write is under way (store events
  // are sent in the background, event_sender.h). Returns its new id (`replaces` the old one's on
  // a fold). Until confirm(), no watch echo of the object replaces this state.
  int64_t record(const std::string& name, Event event);
  // The API server holds the state record() kept for `name` with this count at
  // `resourceVersion`: from then on observe()'s rules apply to it. Nothing when the held state
  // is another (a later record(), or the event is gone).
  void confirm(const std::string& name, int64_t count, int64_t resourceVersion);
  // The Event object `name` is gone (the API server expires Events after its --event-ttl, an
  // hour by default): its event is no longer listed.
  void forget(const std::string& name);
  // The newest event about `object`, and the name of its Event object; nullopt when none.
  std::optional<Event> newestAbout(const ObjectKey& object, std::string* name) const;
  // As ObjectMirror::start.
  void start(int64_t base);
  // The base start() numbered from: every id this mirror gave after start() is greater, every
  // event loaded before it has its resourceVersion, not greater, as id. 0 before start().
  int64_t base() const { return base_; }
  // As StateStore::listEvents (query already validated) when the window holds every event the
  // query could match (query.sinceId is not older than the newest event the window let go);
  // nullopt when it may not: ask the API server.
  std::optional<std::vector<Event>> list(const EventQuery& query) const;
  // Every event held (the window's, and the newest of each object that left it) about `object`
  // (nullopt = all), with its Event object's name ("namespace/name"), oldest first.
  std::vector<std::pair<std::string, Event>> held(const std::optional<ObjectKey>& object) const;
  // Whether the Event object `name` has an event held.
  bool holds(const std::string& name);
  // Events held: the window's and those kept past it.
  size_t size() const { return events_.size() + kept_.size(); }

  // Makes the events held and their indexes again, each allocated anew in a row
  // (common/repack_buffer.h); what the mirror answers is the same after it.
  void repack();

 private:
  // An event as the mirror keeps it: what a list filters and orders on, and the rest (the Event
  // object's name, type, reason, message, evidence, actor, count, first time, replaces) as
  // deflated JSON. A third of the Event struct's size, for a log of tens of thousands.
  struct Stored {
    Time time;
    const ObjectKey* object;  // the key of its entry in objects_
    uint64_t nameHash;        // of its Event object's name: its entry in ids_
    int64_t resourceVersion;  // of the Event object's state it was made from; kPending: none yet
    CompactText body;
  };
  // Per object with events: how many are kept and the newest one's id.
  struct About {
    int64_t count = 0;
    int64_t newest = 0;
  };

  // Stored::resourceVersion of a state record() kept that the server has not confirmed: newer
  // than any the server reports.
  static constexpr int64_t kPending = INT64_MAX;

  using Events = std::map<int64_t, Stored>;  // by id
  // Where an event is held: in events_ or kept_ (in == nullptr: nowhere).
  struct Found {
    Events* in = nullptr;
    Events::iterator it;
  };

  Event decode(int64_t id, const Stored& stored, std::string* name) const;
  // Keeps `event` as the state of `name` at `resourceVersion` under a new id, replacing `known`.
  // Returns the id.
  int64_t keep(const std::string& name, Event event, int64_t resourceVersion, Found known);
  // The event of the Event object `name`, and its decoded form in *event.
  Found find(const std::string& name, Event* event);
  // Removes the event `found` points at, with its index entries.
  void erase(Found found);
  // Lets the oldest events go while the window holds more than window_: an object's newest
  // moves to kept_, the others are dropped; then the oldest written ones of kept_ while it holds
  // more than seriesKept_.
  void trim();

  const int64_t window_;
  const int64_t seriesKept_;
  bool started_ = false;
  int64_t nextId_ = 0;
  int64_t base_ = 0;
  int64_t letGoThrough_ = 0;     // the newest id that left the window (0: none)
  int64_t highestObserved_ = 0;  // the newest resourceVersion observe() was given
  Events events_;                // the window: the newest window_ events
  // Events that left the window but stay: each object's newest, and those not written yet.
  Events kept_;
  // Hash of an Event object's name -> its event's id: a name hashed rather than kept twice (it
  // is in the event's body, which find() compares, so two names of one hash stay apart).
  std::unordered_multimap<uint64_t, int64_t> ids_;
  std::map<ObjectKey, About> objects_;
};

}  // namespace ramp::store::kubernetes
