#include "store/store_test_support.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include "fakes/sequential_state_store.h"
#include "store/memory/memory_state_store.h"
#include "store/sqlite/sqlite_state_store.h"

namespace ramp::store::testing {

TempDir::TempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "ramp-store-XXXXXX").string();
  if (mkdtemp(tmpl.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed for " << tmpl;
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

StoreFactory memoryFactory() {
  return {"memory",
          [](const std::filesystem::path&, StoreConfig c) -> std::unique_ptr<StateStore> {
            return std::make_unique<MemoryStateStore>(
                MemoryStoreOptions{c.changeLogRetention, c.eventRetention});
          },
          /*anyKind=*/true, /*skipReason=*/nullptr};
}

StoreFactory sqliteFactory() {
  return {"sqlite",
          [](const std::filesystem::path& dir, StoreConfig c) -> std::unique_ptr<StateStore> {
            SqliteStoreOptions o;
            o.changeLogRetention = c.changeLogRetention;
            o.eventRetention = c.eventRetention;
            auto s = SqliteStateStore::open((dir / "ramp.db").string(), o);
            if (!s) {
              ADD_FAILURE() << s.error().message;
              return nullptr;
            }
            return std::move(*s);
          },
          /*anyKind=*/true, /*skipReason=*/nullptr};
}

StoreFactory sequentialFactory(StoreFactory inner) {
  return {inner.name + "_sequential",
          [make = inner.make](const std::filesystem::path& dir,
                              StoreConfig c) -> std::unique_ptr<StateStore> {
            auto store = make(dir, c);
            if (!store) return nullptr;
            return std::make_unique<SequentialStateStore>(std::move(store));
          },
          inner.anyKind, inner.skipReason, inner.dropsOldEvents};
}

}  // namespace ramp::store::testing
