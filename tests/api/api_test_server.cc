// A stand-alone API server for the integration tests and bench/api: the SQLite store at
// DATA/ramp.db and the ApiServer, without a controller, so what the tests see is exactly what the
// API did. Prints "ramp serve: api listening on URL" once bound, then serves until SIGTERM/SIGINT.
//
//   ramp_api_test_server --data DIR [--listen ADDR] [--tokens FILE] [--tls-cert F --tls-key F]
//                        [--watch-buffer N] [--heartbeat-ms N] [--max-body N]

#include <signal.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <string>

#include "api/api_server.h"
#include "store/sqlite/sqlite_state_store.h"

int main(int argc, char** argv) {
  ramp::api::ApiOptions options;
  options.listen = "127.0.0.1:0";
  std::string data;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--data") {
      data = value;
    } else if (flag == "--listen") {
      options.listen = value;
    } else if (flag == "--tokens") {
      options.tokensFile = value;
    } else if (flag == "--tls-cert") {
      options.tlsCert = value;
    } else if (flag == "--tls-key") {
      options.tlsKey = value;
    } else if (flag == "--watch-buffer") {
      options.watchBufferEvents = std::strtoul(value.c_str(), nullptr, 10);
    } else if (flag == "--heartbeat-ms") {
      options.heartbeat = ramp::Duration(std::strtol(value.c_str(), nullptr, 10));
    } else if (flag == "--max-body") {
      options.maxBodyBytes = std::strtoul(value.c_str(), nullptr, 10);
    } else {
      std::cerr << "unknown flag " << flag << "\n";
      return 2;
    }
  }
  if (data.empty()) {
    std::cerr << "--data DIR is required\n";
    return 2;
  }
  std::filesystem::create_directories(data);
  auto store = ramp::store::SqliteStateStore::open(data + "/ramp.db");
  if (!store) {
    std::cerr << "store: " << store.error().message << "\n";
    return 1;
  }
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);  // before any thread starts
  auto server = ramp::api::ApiServer::start(**store, ramp::realClock(), options);
  if (!server) {
    std::cerr << "ramp serve: " << server.error().message << "\n";
    return 1;
  }
  std::cout << "ramp serve: " << (*server)->startupNotice() << std::endl;
  int sig = 0;
  sigwait(&set, &sig);
  (*server)->stop();
  return 0;
}
