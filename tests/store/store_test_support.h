#pragma once

// Helpers for the store tests: a temporary directory and the factories of every StateStore
// implementation that the conformance suite runs against.

#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "ramp/store/state_store.h"

namespace ramp::store::testing {

// A fresh directory under the system temp dir, removed (with its contents) on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

struct StoreConfig {
  int64_t changeLogRetention = kDefaultChangeLogRetention;
  int64_t eventRetention = kDefaultEventRetention;
};

struct StoreFactory {
  std::string name;
  // Makes a store whose files (if any) live in `dir`.
  std::function<std::unique_ptr<StateStore>(const std::filesystem::path& dir, StoreConfig)> make;
};

StoreFactory memoryFactory();
StoreFactory sqliteFactory();
// `inner` behind SequentialStateStore (tests/fakes/sequential_state_store.h): batches written one
// object at a time, as by a store without transactions. Named "<inner>_sequential".
StoreFactory sequentialFactory(StoreFactory inner);

}  // namespace ramp::store::testing
