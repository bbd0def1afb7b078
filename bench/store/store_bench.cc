// StateStore throughput. The engine's target is 5,000 reconciles/s with one status write each:
// BM_Put is that write (a compare-and-swap update of a ~1 KB object among 1,000).
//
// Stores: "memory" (baseline), "sqlite" (WAL, synchronous=NORMAL: the default), "sqlite_full"
// (synchronous=FULL: an fsync per commit). Files live in a fresh directory under $TMPDIR.
// Times and rates are wall-clock (UseRealTime): a store that waits on fsync is not idle.

#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "audit/audited_store.h"
#include "audit/signer.h"
#include "store/memory/memory_state_store.h"
#include "store/sqlite/sqlite_state_store.h"

namespace ramp::store {
namespace {

enum class Kind { kMemory, kSqlite, kSqliteFull };

class BenchDir {
 public:
  BenchDir() {
    std::string t = (std::filesystem::temp_directory_path() / "ramp-bench-XXXXXX").string();
    if (mkdtemp(t.data()) == nullptr) std::abort();
    path_ = t;
  }
  ~BenchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string file() const { return (path_ / "ramp.db").string(); }

 private:
  std::filesystem::path path_;
};

std::unique_ptr<StateStore> makeStore(Kind kind, const BenchDir& dir) {
  if (kind == Kind::kMemory) return std::make_unique<MemoryStateStore>();
  SqliteStoreOptions o;
  o.fullSync = kind == Kind::kSqliteFull;
  auto s = SqliteStateStore::open(dir.file(), o);
  if (!s) std::abort();
  return std::move(*s);
}

// A status-sized JSON document (~1 KB).
std::string statusJson(int64_t n) {
  return R"({"status":{"phase":"Progressing","currentStepIndex":)" + std::to_string(n % 8) +
         R"(,"canary":{"weights":{"canary":{"weight":20},"stable":{"weight":80}}},"message":")" +
         std::string(900, 'm') + R"(","observedGeneration":")" + std::to_string(n) + R"("}})";
}

ObjectKey key(int i) {
  return ObjectKey{"Rollout", "ns" + std::to_string(i % 10), "r" + std::to_string(i)};
}

// Creates `n` objects in batches; returns their versions.
std::vector<int64_t> populate(StateStore& s, int n) {
  std::vector<int64_t> versions(n);
  for (int start = 0; start < n; start += 500) {
    std::vector<WriteOp> ops;
    for (int i = start; i < std::min(n, start + 500); ++i) {
      ops.push_back({WriteOp::Type::kPut, key(i), statusJson(i), 0});
    }
    auto r = s.write(ops);
    if (!r) std::abort();
    for (size_t j = 0; j < r->size(); ++j) versions[start + j] = (*r)[j];
  }
  return versions;
}

void BM_Put(benchmark::State& state, Kind kind) {
  BenchDir dir;
  auto s = makeStore(kind, dir);
  auto versions = populate(*s, 1000);
  const std::string json = statusJson(7);
  int i = 0;
  for (auto _ : state) {
    int k = i++ % 1000;
    auto r = s->put(key(k), json, versions[k]);
    if (!r) {
      state.SkipWithError(r.error().message.c_str());
      break;
    }
    versions[k] = *r;
  }
  state.SetItemsProcessed(state.iterations());
}

// Several reconcile workers writing at once (each its own objects), one shared store.
struct Shared {
  std::unique_ptr<BenchDir> dir;
  std::unique_ptr<StateStore> store;
  std::vector<int64_t> versions;
};
Shared shared;

void BM_PutThreads(benchmark::State& state, Kind kind) {
  if (state.thread_index() == 0) {
    shared.dir = std::make_unique<BenchDir>();
    shared.store = makeStore(kind, *shared.dir);
    shared.versions = populate(*shared.store, 1000);
  }
  const std::string json = statusJson(7);
  const int per = 1000 / state.threads();
  const int base = state.thread_index() * per;
  int i = 0;
  for (auto _ : state) {  // the loop starts only once every thread is here (after setup)
    int k = base + i++ % per;
    auto r = shared.store->put(key(k), json, shared.versions[k]);
    if (!r) {
      state.SkipWithError(r.error().message.c_str());
      break;
    }
    shared.versions[k] = *r;
  }
  state.SetItemsProcessed(state.iterations());
  if (state.thread_index() == 0) {
    shared.store.reset();
    shared.dir.reset();
  }
}

// One reconcile's writes: the status update and one event explaining it, in one transaction.
// One status write with its event, as the controller writes a decision, into `s` (holding the
// 1,000 objects of `versions`).
void putWithEvents(benchmark::State& state, StateStore& s, std::vector<int64_t>& versions) {
  const std::string json = statusJson(7);
  Event e;
  e.reason = "RolloutStepCompleted";
  e.message = "Rollout step 3/8 completed (setWeight: 40)";
  e.evidence = R"({"weight":40,"analysisRun":"r1-abc","phase":"Successful"})";
  e.actor = "controller";
  int i = 0;
  for (auto _ : state) {
    int k = i++ % 1000;
    WriteOp op{WriteOp::Type::kPut, key(k), json, versions[k]};
    e.object = op.key;
    auto r = s.writeWithEvents(std::span<const WriteOp>(&op, 1), std::span<const Event>(&e, 1));
    if (!r) {
      state.SkipWithError(r.error().message.c_str());
      break;
    }
    versions[k] = r->versions.front();
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_PutWithEvent(benchmark::State& state, Kind kind) {
  BenchDir dir;
  auto s = makeStore(kind, dir);
  auto versions = populate(*s, 1000);
  putWithEvents(state, *s, versions);
}

// The same through the audit log's decorator (audit/audited_store.h) with a signing key: each
// decision also becomes a signed in-toto statement and a Merkle leaf in the same transaction.
// The audit append's cost per decision is this row minus BM_PutWithEvent's of the same store
// (issue #18's target: < 1 ms of CPU).
void BM_PutWithEventAudited(benchmark::State& state, Kind kind) {
  BenchDir dir;
  auto inner = makeStore(kind, dir);
  auto versions = populate(*inner, 1000);
  auto audited =
      audit::AuditedStateStore::wrap(*inner, *audit::SigningKey::generate(), "controller");
  if (!audited) {
    state.SkipWithError(audited.error().message.c_str());
    return;
  }
  putWithEvents(state, **audited, versions);
}

void BM_PutBatched(benchmark::State& state, Kind kind) {
  BenchDir dir;
  auto s = makeStore(kind, dir);
  auto versions = populate(*s, 1000);
  const std::string json = statusJson(7);
  const int batch = static_cast<int>(state.range(0));
  int i = 0;
  std::vector<WriteOp> ops;
  for (auto _ : state) {
    ops.clear();
    std::vector<int> keys;
    for (int j = 0; j < batch; ++j) {
      int k = i++ % 1000;
      keys.push_back(k);
      ops.push_back({WriteOp::Type::kPut, key(k), json, versions[k]});
    }
    auto r = s->write(ops);
    if (!r) {
      state.SkipWithError(r.error().message.c_str());
      break;
    }
    for (int j = 0; j < batch; ++j) versions[keys[j]] = (*r)[j];
  }
  state.SetItemsProcessed(state.iterations() * batch);
}

void BM_Get(benchmark::State& state, Kind kind) {
  BenchDir dir;
  auto s = makeStore(kind, dir);
  populate(*s, 1000);
  int i = 0;
  for (auto _ : state) {
    auto r = s->get(key(i++ % 1000));
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_List10k(benchmark::State& state, Kind kind) {
  BenchDir dir;
  auto s = makeStore(kind, dir);
  populate(*s, 10'000);
  for (auto _ : state) {
    auto r = s->list("Rollout", "");
    if (!r || r->items.size() != 10'000) state.SkipWithError("list");
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations() * 10'000);
}

void BM_AppendEvent(benchmark::State& state, Kind kind) {
  BenchDir dir;
  auto s = makeStore(kind, dir);
  Event e;
  e.object = key(1);
  e.reason = "RolloutStepCompleted";
  e.message = "Rollout step 3/8 completed (setWeight: 40)";
  e.evidence = R"({"weight":40,"analysisRun":"r1-abc","phase":"Successful"})";
  e.actor = "controller";
  int64_t n = 0;
  for (auto _ : state) {
    e.time = Time(Duration(++n));
    auto r = s->appendEvent(e);
    if (!r) state.SkipWithError(r.error().message.c_str());
  }
  state.SetItemsProcessed(state.iterations());
}

BENCHMARK_CAPTURE(BM_Put, memory, Kind::kMemory)->UseRealTime();
BENCHMARK_CAPTURE(BM_Put, sqlite, Kind::kSqlite)->UseRealTime();
BENCHMARK_CAPTURE(BM_Put, sqlite_full, Kind::kSqliteFull)->MinTime(0.5)->UseRealTime();
BENCHMARK_CAPTURE(BM_PutWithEvent, memory, Kind::kMemory)->UseRealTime();
BENCHMARK_CAPTURE(BM_PutWithEvent, sqlite, Kind::kSqlite)->UseRealTime();
BENCHMARK_CAPTURE(BM_PutWithEventAudited, memory, Kind::kMemory)->UseRealTime();
BENCHMARK_CAPTURE(BM_PutWithEventAudited, sqlite, Kind::kSqlite)->UseRealTime();
BENCHMARK_CAPTURE(BM_PutThreads, memory, Kind::kMemory)->Threads(4)->UseRealTime();
BENCHMARK_CAPTURE(BM_PutThreads, sqlite, Kind::kSqlite)->Threads(4)->UseRealTime();
BENCHMARK_CAPTURE(BM_PutBatched, memory, Kind::kMemory)->Arg(100)->UseRealTime();
BENCHMARK_CAPTURE(BM_PutBatched, sqlite, Kind::kSqlite)->Arg(10)->Arg(100)->UseRealTime();
BENCHMARK_CAPTURE(BM_PutBatched, sqlite_full, Kind::kSqliteFull)
    ->Arg(100)
    ->MinTime(0.5)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_Get, memory, Kind::kMemory)->UseRealTime();
BENCHMARK_CAPTURE(BM_Get, sqlite, Kind::kSqlite)->UseRealTime();
BENCHMARK_CAPTURE(BM_List10k, memory, Kind::kMemory)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_List10k, sqlite, Kind::kSqlite)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_AppendEvent, memory, Kind::kMemory)->UseRealTime();
BENCHMARK_CAPTURE(BM_AppendEvent, sqlite, Kind::kSqlite)->UseRealTime();

}  // namespace
}  // namespace ramp::store
