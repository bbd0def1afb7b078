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
// idle controller holds 35.0 MiB (10.2 KiB per Rollout instead of 13.1); every allocation then
// takes its arena's lock, which cost ~10 % more CPU per release (0.047 CPU-s instead of 0.042).
// Measured with bench/kubernetes/run.py (docs/performance.md).
extern "C" {
// NOLINTNEXTLINE(readability-identifier-naming): the name jemalloc looks for.
extern const char* malloc_conf;
const char* malloc_conf = "background_thread:true,tcache:false";
}
