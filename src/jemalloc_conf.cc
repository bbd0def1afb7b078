// jemalloc's options for the ramp binary (linked only when RAMP_JEMALLOC is on; jemalloc reads
// this symbol at its first allocation). background_thread: a thread returns the pages of idle
// arenas to the system on the decay timers; without it an arena purges only when its own threads
// allocate again, so a worker idle after a burst of releases kept the burst's memory resident.
extern "C" {
// NOLINTNEXTLINE(readability-identifier-naming): the name jemalloc looks for.
extern const char* malloc_conf;
const char* malloc_conf = "background_thread:true";
}
