#pragma once

// writeSequentially: writeWithEvents() for a store that cannot write several objects in one
// transaction (a Kubernetes store: one API call per object, each compare-and-swap on its
// resourceVersion). It gives exactly the contract StateStore::write() promises every store,
// and no more:
//   - every op and event is validated first; an invalid one writes nothing;
//   - the ops are applied in order, one at a time, each with its own compare-and-swap through
//     store.put()/store.remove(); the first failing op stops the batch (later ops are not
//     tried) and its error is returned with "op <i>: " prefixed, while the ops before it stay
//     written;
//   - the events are appended (store.appendEvent()) only once every op is written, in order;
//     a failing append returns its error prefixed "event <i>: ", with the ops and the earlier
//     events written.
//
// Threading: as `store`; other writers may interleave between the ops of one batch.

#include <span>

#include "ramp/store/state_store.h"

namespace ramp::store {

Result<WriteResult> writeSequentially(StateStore& store, std::span<const WriteOp> ops,
                                      std::span<const Event> events);

}  // namespace ramp::store
