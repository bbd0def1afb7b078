// Fuzzes the parsers of HAProxy runtime API replies: `show servers state`, `show stat` and the
// runtime API address. They must return a value or an Error on any input, never crash; a parsed
// server list must be usable by the router's planning.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "traffic/haproxy/haproxy_router.h"
#include "traffic/haproxy/runtime_api.h"
#include "traffic/haproxy/server_state.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  using namespace ramp::traffic::haproxy;
  if (auto servers = parseServersState(text)) {
    std::vector<DesiredServer> desired = {{"ramp-a", "127.0.0.1", 1, true, false, 10}};
    (void)planCommands("be_app", "ramp-", *servers, desired);
    (void)diffServers("ramp-", *servers, desired);
  }
  (void)parseShowStat(text);
  (void)parseRuntimeApiAddress(text.substr(0, 200));
  return 0;
}
