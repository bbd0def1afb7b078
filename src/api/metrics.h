#pragma once

// /metrics: Prometheus text exposition of what the store says about rollouts and analysis runs,
// with Argo Rollouts' metric names and labels (rollout_info, rollout_info_replicas_*,
// analysis_run_info, analysis_run_metric_phase, analysis_run_metric_type, …), plus process
// metrics read from /proc/self. Written on the scrape's MetricsPage (common/metrics_page.h).
//
// Thread safety: the functions only read the store; call from any thread.

#include <string>

#include "common/metrics_page.h"
#include "ramp/error.h"
#include "ramp/store/state_store.h"

namespace ramp::api {

// Declares the object-derived metric families on `page` and fills them. Objects whose JSON cannot
// be read are skipped (counted in ramp_api_metrics_unreadable_objects). Errors: the store's, when
// it cannot be listed (nothing is declared then).
Status appendObjectMetrics(store::StateStore& store, MetricsPage& page);

// Declares process_cpu_seconds_total, process_resident_memory_bytes,
// process_virtual_memory_bytes, process_open_fds, process_max_fds, process_start_time_seconds
// and process_threads (Prometheus client conventions). Missing /proc data is left out.
void appendProcessMetrics(MetricsPage& page);

}  // namespace ramp::api
