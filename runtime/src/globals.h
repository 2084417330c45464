// globals.h — the runtime's process-wide state: configuration, the initial
// record, the id counter and the adoption switch.
//
// Invariant: `initialized` is set last in tl_init (release) and every entry
// point checks it first (acquire), so a reader that sees it true sees the
// whole configuration.
#pragma once
#include <pthread.h>

#include <atomic>

#include "record.h"
#include "threadlab/runtime.h"

namespace tl {

struct Runtime {
  std::atomic<bool> initialized{false};
  tl_config cfg{};
  Record* initial = nullptr;
  std::atomic<uint64_t> next_id{1};
  std::atomic<bool> allow_adoption{true};
  // Held for a whole adoption (runtime lock order: adoption, registry).
};

Runtime& rt();

inline bool initialized() { return rt().initialized.load(std::memory_order_acquire); }

}  // namespace tl

#define TL_REQUIRE_INIT()                                                          \
  do {                                                                             \
    if (!::tl::initialized())                                                      \
      return ::tl::fail(TL_ENOTINIT, "call tl_init() before %s()", __func__);      \
  } while (0)
