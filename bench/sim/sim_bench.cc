// The simulated world at scale: what one reconcile costs in platform.sim and traffic.sim, and
// how much memory a rollout takes, with 10,000 and 100,000 rollouts of 2 revisions x 3 replicas.
//
// Worlds: "shared" = every rollout runs the same two pod templates (interned once), "distinct" =
// every rollout has its own images (two templates per rollout). Each world lives in a fresh
// data dir under $TMPDIR (real SQLite, WAL, synchronous=NORMAL).
//
// Memory counters (per rollout, set on the Observe rows): rss_B = growth of resident memory
// (/proc/self/statm) while filling the world, heap_B = growth of malloc'd bytes (mallinfo2).
// Both include SQLite's page cache. Times are wall-clock.

#include <benchmark/benchmark.h>
#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "analysis/providers/sim/sim_provider.h"
#include "fakes/simulated_clock.h"
#include "harness/harness.h"
#include "platform/sim/sim_driver.h"
#include "traffic/sim/sim_router.h"

namespace ramp {
namespace {

using platform::sim::SimDriver;
using ramp::testing::SimulatedClock;
using ramp::testing::TempDir;

int64_t residentBytes() {
  std::ifstream statm("/proc/self/statm");
  int64_t size = 0;
  int64_t resident = 0;
  statm >> size >> resident;
  return resident * sysconf(_SC_PAGESIZE);
}

int64_t heapBytes() { return static_cast<int64_t>(mallinfo2().uordblks); }

spec::PodTemplateSpec podTemplate(const std::string& image) {
  spec::PodTemplateSpec t;
  t.metadata.labels = {{"app", "demo"}};
  t.metadata.annotations = {{platform::sim::kSimReadyAfterAnnotation, "2s"}};
  spec::Container c;
  c.name = "demo";
  c.image = image;
  c.args = {"--port", "8080"};
  t.spec.containers.push_back(c);
  return t;
}

std::string keyOf(int64_t i) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "bench/rollout-%06lld", static_cast<long long>(i));
  return buf;
}

// One populated driver; only one world lives at a time so memory is measured from a clean
// baseline.
struct World {
  int64_t rollouts = 0;
  bool distinct = false;
  std::unique_ptr<TempDir> dir;
  SimulatedClock clock;
  std::unique_ptr<SimDriver> driver;
  std::vector<std::string> keys;
  double rssPerRollout = 0;
  double heapPerRollout = 0;
  double fillSeconds = 0;
  // Where BM_SimDriverScale left off (Google Benchmark runs a function several times): every
  // call must change the replica count, or it would be a no-op without a write.
  size_t scaleCursor = 0;
  int32_t scaleTo = 4;
};

std::unique_ptr<World> gWorld;

World& world(int64_t rollouts, bool distinct) {
  if (gWorld && gWorld->rollouts == rollouts && gWorld->distinct == distinct) return *gWorld;
  gWorld.reset();
  malloc_trim(0);
  auto w = std::make_unique<World>();
  w->rollouts = rollouts;
  w->distinct = distinct;
  w->dir = std::make_unique<TempDir>("ramp-bench-sim");
  w->keys.reserve(static_cast<size_t>(rollouts));
  for (int64_t i = 0; i < rollouts; ++i) w->keys.push_back(keyOf(i));
  const spec::PodTemplateSpec v1 = podTemplate("demo:v1");
  const spec::PodTemplateSpec v2 = podTemplate("demo:v2");
  malloc_trim(0);
  const int64_t rss0 = residentBytes();
  const int64_t heap0 = heapBytes();
  auto start = std::chrono::steady_clock::now();
  auto d = SimDriver::open(w->clock, w->dir->path());
  if (!d) std::abort();
  w->driver = std::move(*d);
  for (int64_t i = 0; i < rollouts; ++i) {
    const std::string& key = w->keys[static_cast<size_t>(i)];
    auto a = distinct ? podTemplate("demo:v1-" + std::to_string(i)) : v1;
    auto b = distinct ? podTemplate("demo:v2-" + std::to_string(i)) : v2;
    if (!w->driver->ensureRevision(key, {"6f9c7d8b4a", 1, a, 0})) std::abort();
    if (!w->driver->scale(key, "6f9c7d8b4a", 3, 3)) std::abort();
    if (!w->driver->ensureRevision(key, {"7c5d9e6f2b", 2, b, 5})) std::abort();
    if (!w->driver->scale(key, "7c5d9e6f2b", 3, 3)) std::abort();
  }
  w->fillSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  w->rssPerRollout = double(residentBytes() - rss0) / double(rollouts);
  w->heapPerRollout = double(heapBytes() - heap0) / double(rollouts);
  gWorld = std::move(w);
  return *gWorld;
}

// observe() of one rollout (2 revisions, 6 endpoints, templates copied out).
void BM_SimDriverObserve(benchmark::State& state) {
  World& w = world(state.range(0), state.range(1) != 0);
  size_t i = 0;
  for (auto _ : state) {
    auto r = w.driver->observe(w.keys[i]);
    benchmark::DoNotOptimize(r);
    if (++i == w.keys.size()) i = 0;
  }
  state.counters["rss_B"] = w.rssPerRollout;
  state.counters["heap_B"] = w.heapPerRollout;
  state.counters["fill_s"] = w.fillSeconds;
}

// observe() cycling over the first 512 rollouts only (an active set smaller than the decode
// cache, as in a controller where most rollouts are idle).
void BM_SimDriverObserveHot(benchmark::State& state) {
  World& w = world(state.range(0), state.range(1) != 0);
  const size_t hot = std::min<size_t>(512, w.keys.size());
  size_t i = 0;
  for (auto _ : state) {
    auto r = w.driver->observe(w.keys[i]);
    benchmark::DoNotOptimize(r);
    if (++i == hot) i = 0;
  }
}

// scale() of one revision between 3 and 4 replicas: one SQLite UPDATE committed per call.
void BM_SimDriverScale(benchmark::State& state) {
  World& w = world(state.range(0), state.range(1) != 0);
  for (auto _ : state) {
    if (!w.driver->scale(w.keys[w.scaleCursor], "7c5d9e6f2b", w.scaleTo, w.scaleTo)) std::abort();
    if (++w.scaleCursor == w.keys.size()) {
      w.scaleCursor = 0;
      w.scaleTo = w.scaleTo == 4 ? 3 : 4;
    }
  }
}

// A restarted daemon: open the data dir and load every rollout (one iteration = whole load).
void BM_SimDriverReopen(benchmark::State& state) {
  World& w = world(state.range(0), state.range(1) != 0);
  // The world has one owner at a time: the world's own driver lets go while the restarts run
  // (each iteration's driver closes before the next opens), then takes it back.
  w.driver.reset();
  for (auto _ : state) {
    auto d = SimDriver::open(w.clock, w.dir->path());
    if (!d || (*d)->rolloutCount() != static_cast<size_t>(w.rollouts)) std::abort();
  }
  auto d = SimDriver::open(w.clock, w.dir->path());
  if (!d) std::abort();
  w.driver = std::move(*d);
}

// N routers sharing one data dir, each with endpoints and a weight set.
struct RouterWorld {
  int64_t routers = 0;
  std::unique_ptr<TempDir> dir;
  std::vector<std::unique_ptr<traffic::sim::SimRouter>> all;
  double rssPerRouter = 0;
  size_t cursor = 0;
  int32_t weight = 10;
};

std::unique_ptr<RouterWorld> gRouters;

RouterWorld& routerWorld(int64_t n) {
  if (gRouters && gRouters->routers == n) return *gRouters;
  gRouters.reset();
  gWorld.reset();
  malloc_trim(0);
  auto w = std::make_unique<RouterWorld>();
  w->routers = n;
  w->dir = std::make_unique<TempDir>("ramp-bench-simr");
  traffic::RevisionEndpoints stable{"6f9c7d8b4a", {}};
  traffic::RevisionEndpoints canary{"7c5d9e6f2b", {}};
  for (int i = 0; i < 3; ++i) {
    stable.endpoints.push_back({"6f9c7d8b4a-" + std::to_string(i), "127.0.0.1", 0, true});
    canary.endpoints.push_back({"7c5d9e6f2b-" + std::to_string(i), "127.0.0.1", 0, true});
  }
  malloc_trim(0);
  const int64_t rss0 = residentBytes();
  w->all.reserve(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    auto r = traffic::sim::SimRouter::create(keyOf(i), "{}", 100, w->dir->path());
    if (!r) std::abort();
    if (!(*r)->syncEndpoints(stable, canary, {}) || !(*r)->setWeight(5, {})) std::abort();
    w->all.push_back(std::move(*r));
  }
  w->rssPerRouter = double(residentBytes() - rss0) / double(n);
  gRouters = std::move(w);
  return *gRouters;
}

// setWeight (one SQLite write) then verifyWeight on one of N routers sharing one data dir.
// rss_B = resident growth per router (router object + its recorded state + SQLite cache).
void BM_SimRouterSetWeight(benchmark::State& state) {
  RouterWorld& w = routerWorld(state.range(0));
  for (auto _ : state) {
    auto& r = w.all[w.cursor];
    if (!r->setWeight(w.weight, {})) std::abort();
    if (r->verifyWeight(w.weight, {}) != traffic::WeightCheck::kVerified) std::abort();
    if (++w.cursor == w.all.size()) {
      w.cursor = 0;
      w.weight = w.weight == 10 ? 20 : 10;
    }
  }
  state.counters["rss_B"] = w.rssPerRouter;
}

// One scripted measurement (parses the metric's config each time: the provider is stateless).
void BM_SimProviderRun(benchmark::State& state) {
  spec::Metric m;
  m.name = "success-rate";
  m.provider.plugin["ramp/sim"] =
      spec::RawJson{R"({"key":"demo:v2","script":{"demo:v2":[1,1,0.5],"*":[1]}})"};
  spec::AnalysisRun run;
  run.status.metricResults.push_back({});
  run.status.metricResults[0].name = "success-rate";
  run.status.metricResults[0].count = 1;
  analysis::providers::SimProvider p;
  for (auto _ : state) {
    auto r = p.run(analysis::MeasureContext{&run, &m, Time{}});
    if (!r) std::abort();
    benchmark::DoNotOptimize(r);
  }
}

BENCHMARK(BM_SimDriverObserve)
    ->ArgNames({"rollouts", "distinct"})
    ->Args({10000, 0})
    ->Args({10000, 1})
    ->Args({100000, 0})
    ->Args({100000, 1})
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_SimDriverObserveHot)
    ->ArgNames({"rollouts", "distinct"})
    ->Args({100000, 1})
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_SimDriverScale)
    ->ArgNames({"rollouts", "distinct"})
    ->Args({10000, 0})
    ->Args({100000, 0})
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_SimDriverReopen)
    ->ArgNames({"rollouts", "distinct"})
    ->Args({10000, 0})
    ->Args({100000, 0})
    ->Iterations(1)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SimRouterSetWeight)
    ->ArgNames({"routers"})
    ->Arg(10000)
    ->Arg(100000)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_SimProviderRun)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace ramp
