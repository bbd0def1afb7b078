#pragma once

// /metrics: Prometheus text exposition of what the store says about rollouts and analysis runs,
// with Argo Rollouts' metric names and labels (rollout_info, rollout_info_replicas_*,
// analysis_run_info, analysis_run_metric_phase, analysis_run_metric_type, …), plus process
// metrics read from /proc/self.
//
// Thread safety: the functions only read the store; call from any thread.

#include <string>

#include "ramp/error.h"
#include "ramp/store/state_store.h"

namespace ramp::api {

// Appends the object-derived metrics. Objects whose JSON cannot be read are skipped (counted in
// ramp_api_metrics_unreadable_objects). Errors: the store's, when it cannot be listed.
Status appendObjectMetrics(store::StateStore& store, std::string& out);

// Appends process_cpu_seconds_total, process_resident_memory_bytes,
// process_virtual_memory_bytes, process_open_fds, process_max_fds, process_start_time_seconds
// and process_threads (Prometheus client conventions). Missing /proc data is left out.
void appendProcessMetrics(std::string& out);

// Escapes a label value for the text format.
std::string escapeLabelValue(const std::string& value);

}  // namespace ramp::api
