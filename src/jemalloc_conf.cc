// jemalloc's options for the ramp binary (linked only when RAMP_JEMALLOC is on; jemalloc reads
// this symbol at its first allocation; MALLOC_CONF in the environment still overrides it).
//
// background_thread: a thread returns the pages of idle arenas to the system on the decay
// timers; without it an arena purges only when its own threads allocate again, so a worker idle
// after a burst of releases kept the burst's memory resident.
//
// tcache:false: no per-thread caches of freed objects. ramp's twenty-odd threads (an informer
// per watched kind, the workers, the API) each kept their last burst's freed objects, and
// jemalloc empties a thread's cache only as that thread allocates again: with 1,000 Rollouts at
// rest, 3.9 MB of 38.6 MiB resident were such caches (malloc_stats_print). Without them the
// idle controller holds 34–35 MiB (~9–10 KiB per Rollout instead of 13.1; small caches, 16
// objects of at most 1 KiB, gave 11.6). The price is CPU: every allocation takes its arena's
// lock, ~20 % more CPU-seconds to sync and per release (24.5 instead of 19.6 to start with
// 1,000 Rollouts; 0.050 instead of 0.042 per release; Argo's: 41.4 and 0.084), while the
// client's rate limit, not CPU, sets how long those take. Measured with
// bench/kubernetes/run.py (docs/performance.md, session 22).
// narenas:1: one arena for every thread (jemalloc's default is four per CPU). Without per-thread
// caches every allocation takes an arena's lock anyway; with eight arenas each kept its own
// partly used pages of every size class, so the survivors of the start-up burst were spread
// over eight times the pages. With 1,000 Rollouts: 34.2 → 32.8 MiB at rest, peak 55.3 → 48.5
// MiB, the controller's CPU-seconds unchanged (docs/performance.md, session 25).
extern "C" {
// NOLINTNEXTLINE(readability-identifier-naming): the name jemalloc looks for.
extern const char* malloc_conf;
const char* malloc_conf = "background_thread:true,tcache:false,narenas:1";
}
