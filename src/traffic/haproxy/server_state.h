#pragma once

// Parsers for the HAProxy runtime API's read commands: `show servers state <backend>` (format
// version 1, the one HAProxy 1.6 to 2.9 print) and the CSV of `show stat`. They take the raw
// reply text and never trust it: a short or malformed line is an Error naming the line.
//
// Pure functions; thread-safe.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ramp/error.h"

namespace ramp::traffic::haproxy {

// HAProxy's admin-state bits (srv_admin_state); any maintenance bit takes the server out.
inline constexpr int kAdminForcedMaint = 0x01;
inline constexpr int kAdminMaintMask = 0x01 | 0x02 | 0x04 | 0x20;
inline constexpr int kAdminDrainMask = 0x08 | 0x10;

// One row of `show servers state`.
struct ServerState {
  std::string backend;
  std::string name;
  std::string address;
  int opState = 0;     // 0 stopped, 1 starting, 2 running, 3 stopping
  int adminState = 0;  // bit set of kAdmin* flags
  int userWeight = 0;  // srv_uweight: the weight `set weight` changed
  int initialWeight = 0;
  int port = 0;

  bool inMaintenance() const { return (adminState & kAdminMaintMask) != 0; }
  bool operator==(const ServerState&) const = default;
};

// Parses the reply of `show servers state [<backend>]`. The first line must be the format version
// "1", the second the "# be_id be_name ..." header; columns are found by their header names, so
// added columns are tolerated. Returns kParse naming the line on malformed input, and kNotFound
// if HAProxy answered "Can't find backend.".
Result<std::vector<ServerState>> parseServersState(std::string_view reply);

// One row of `show stat` (CSV): the columns the routers and tests use.
struct StatRow {
  std::string proxy;   // pxname
  std::string server;  // svname (FRONTEND / BACKEND for the aggregate rows)
  std::string status;  // UP, DOWN, MAINT, ...
  int64_t weight = 0;
  int64_t totalSessions = 0;  // stot
  int64_t lbTotal = 0;        // lbtot: times the server was chosen by the load balancer
  bool operator==(const StatRow&) const = default;
};

// Parses the CSV reply of `show stat`. The header line starts with "# pxname,svname,"; columns are
// found by name. Returns kParse naming the line on malformed input.
Result<std::vector<StatRow>> parseShowStat(std::string_view reply);

}  // namespace ramp::traffic::haproxy
