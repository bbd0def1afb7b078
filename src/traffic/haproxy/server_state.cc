#include "traffic/haproxy/server_state.h"

#include <charconv>
#include <optional>
#include <unordered_map>

namespace ramp::traffic::haproxy {
namespace {

std::vector<std::string_view> splitLines(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    start = end + 1;
  }
  return lines;
}

std::vector<std::string_view> splitOn(std::string_view line, char sep, bool skipEmpty) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (start <= line.size()) {
    size_t end = line.find(sep, start);
    if (end == std::string_view::npos) end = line.size();
    std::string_view field = line.substr(start, end - start);
    if (!skipEmpty || !field.empty()) out.push_back(field);
    start = end + 1;
  }
  return out;
}

std::optional<int64_t> toInt(std::string_view s) {
  int64_t v = 0;
  if (s.empty()) return std::nullopt;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

Error lineError(size_t lineNo, std::string_view what) {
  return Error{ErrorCode::kParse,
               "HAProxy reply line " + std::to_string(lineNo) + ": " + std::string(what)};
}

}  // namespace

Result<std::vector<ServerState>> parseServersState(std::string_view reply) {
  auto lines = splitLines(reply);
  size_t first = 0;
  while (first < lines.size() && lines[first].empty()) ++first;
  if (first == lines.size()) return std::unexpected(lineError(1, "empty reply"));
  if (lines[first].starts_with("Can't find backend")) {
    return makeError(ErrorCode::kNotFound, "HAProxy: " + std::string(lines[first]));
  }
  if (lines[first] != "1") {
    return std::unexpected(lineError(
        first + 1,
        "expected format version \"1\", got \"" + std::string(lines[first].substr(0, 80)) + "\""));
  }
  if (first + 1 >= lines.size() || !lines[first + 1].starts_with("# ")) {
    return std::unexpected(lineError(first + 2, "expected the \"# be_id be_name ...\" header"));
  }
  auto header = splitOn(lines[first + 1].substr(2), ' ', true);
  std::unordered_map<std::string_view, size_t> col;
  for (size_t i = 0; i < header.size(); ++i) col.emplace(header[i], i);
  const char* required[] = {"be_name",         "srv_name",    "srv_addr",    "srv_op_state",
                            "srv_admin_state", "srv_uweight", "srv_iweight", "srv_port"};
  for (const char* name : required) {
    if (!col.contains(name)) {
      return std::unexpected(lineError(first + 2, std::string("header lacks column ") + name));
    }
  }
  std::vector<ServerState> out;
  for (size_t i = first + 2; i < lines.size(); ++i) {
    if (lines[i].empty()) continue;
    auto f = splitOn(lines[i], ' ', true);
    if (f.size() < header.size()) {
      return std::unexpected(lineError(i + 1, "expected " + std::to_string(header.size()) +
                                                  " fields, got " + std::to_string(f.size())));
    }
    ServerState s;
    s.backend = std::string(f[col["be_name"]]);
    s.name = std::string(f[col["srv_name"]]);
    s.address = std::string(f[col["srv_addr"]]);
    struct IntField {
      const char* name;
      int* out;
    } ints[] = {{"srv_op_state", &s.opState},
                {"srv_admin_state", &s.adminState},
                {"srv_uweight", &s.userWeight},
                {"srv_iweight", &s.initialWeight},
                {"srv_port", &s.port}};
    for (const auto& field : ints) {
      auto v = toInt(f[col[field.name]]);
      if (!v || *v < 0 || *v > 1'000'000) {
        return std::unexpected(lineError(i + 1, std::string(field.name) + " is not a number: \"" +
                                                    std::string(f[col[field.name]].substr(0, 40)) +
                                                    "\""));
      }
      *field.out = static_cast<int>(*v);
    }
    out.push_back(std::move(s));
  }
  return out;
}

Result<std::vector<StatRow>> parseShowStat(std::string_view reply) {
  auto lines = splitLines(reply);
  size_t first = 0;
  while (first < lines.size() && lines[first].empty()) ++first;
  if (first == lines.size() || !lines[first].starts_with("# pxname,svname,")) {
    return std::unexpected(lineError(first + 1, "expected the \"# pxname,svname,...\" header"));
  }
  auto header = splitOn(lines[first].substr(2), ',', false);
  std::unordered_map<std::string_view, size_t> col;
  for (size_t i = 0; i < header.size(); ++i) col.emplace(header[i], i);
  for (const char* name : {"status", "weight", "stot", "lbtot"}) {
    if (!col.contains(name)) {
      return std::unexpected(lineError(first + 1, std::string("header lacks column ") + name));
    }
  }
  std::vector<StatRow> out;
  for (size_t i = first + 1; i < lines.size(); ++i) {
    if (lines[i].empty()) continue;
    auto f = splitOn(lines[i], ',', false);
    if (f.size() < header.size()) {
      return std::unexpected(lineError(i + 1, "expected " + std::to_string(header.size()) +
                                                  " fields, got " + std::to_string(f.size())));
    }
    StatRow row;
    row.proxy = std::string(f[0]);
    row.server = std::string(f[1]);
    row.status = std::string(f[col["status"]]);
    struct IntField {
      const char* name;
      int64_t* out;
    } ints[] = {{"weight", &row.weight}, {"stot", &row.totalSessions}, {"lbtot", &row.lbTotal}};
    for (const auto& field : ints) {
      std::string_view v = f[col[field.name]];
      if (v.empty()) continue;  // HAProxy leaves columns that do not apply empty
      auto n = toInt(v);
      if (!n) {
        return std::unexpected(lineError(i + 1, std::string(field.name) + " is not a number: \"" +
                                                    std::string(v.substr(0, 40)) + "\""));
      }
      *field.out = *n;
    }
    out.push_back(std::move(row));
  }
  return out;
}

}  // namespace ramp::traffic::haproxy
