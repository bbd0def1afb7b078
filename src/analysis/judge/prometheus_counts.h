#pragma once

// PrometheusCounts: the judge's CountsSource backed by a Prometheus HTTP API. Each fetch sends
// instant queries (POST /api/v1/query, time = ctx.now, so both arms are read at the same
// instant) for each arm's requests and errors and, when the judge's latency test is on, the
// arm's histogram buckets (`sum by (le) (…_bucket{…})`). The queries come from the JudgeConfig
// (a preset fills them in; see judge_config.cc and docs/judge.md).
//
// What a query may return:
// - requests / errors: one number (a scalar, or a vector of at most one series). An empty
//   vector is a counter that does not exist yet (no traffic so far) and counts as 0. Several
//   series are an error (the query must aggregate, e.g. with sum()).
// - latencyBuckets: one series per `le` bucket. When one arm has no series yet, its buckets are
//   the other arm's bounds at 0; when neither has, the fetch fails (the histogram cannot be
//   judged without its bounds).
// Every failure (unreachable server, timeout, non-2xx status, Prometheus's error envelope, a
// malformed body) is an Error naming the endpoint and the query, with credentials in the address
// and the context's secrets redacted.
//
// Thread safety: holds only configuration; fetch() may be called from many threads at once.
// fetch() blocks for at most (number of queries) x options.timeout.

#include <string>

#include "analysis/judge/judge_provider.h"
#include "ramp/clock.h"

namespace ramp {
class Redactor;
}

namespace ramp::analysis::judge {

class PrometheusCounts final : public CountsSource {
 public:
  struct Options {
    std::string defaultAddress;                   // used when the config has no `address`
    const Redactor* redactor = nullptr;           // secrets hidden from messages (may be null)
    Duration timeout = std::chrono::seconds(10);  // per query
  };

  explicit PrometheusCounts(Options options) : options_(std::move(options)) {}

  // Queries the counters of both arms as of ctx.now. On success returns them (time = ctx.now,
  // buckets sorted by le, filled only when config.latency is set). On error returns
  // kInvalidArgument when no usable address is configured, otherwise the transport's or
  // Prometheus's error code (kUnavailable, kDeadlineExceeded, kParse, …) with a message
  // "prometheus <url> query `<promql>`: <reason>".
  Result<JudgeInput> fetch(const JudgeConfig& config, const MeasureContext& ctx) override;

 private:
  Options options_;
};

}  // namespace ramp::analysis::judge
