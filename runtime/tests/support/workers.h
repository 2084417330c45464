// workers.h — threads held in one chosen state while the test stops the
// world around them (tests only).
#pragma once
#include <atomic>
#include <cstdint>
#include <vector>

#include "threadlab/runtime.h"

namespace tltest {

enum class Mode {
  ManagedPolling,   // spinning in managed code, polling tl_safepoint
  ManagedPure,      // spinning in managed code, no polls (signal needed)
  BlockedSyscall,   // in read() on an empty pipe, inside tl_blocking_begin
  ForeignCall,      // spinning inside tl_foreign_begin/end
  LockWait,         // waiting on a runtime lock held by the test
};
const char* mode_name(Mode m);

struct Worker {
  std::atomic<uint64_t> progress{0};
  tl_thread_id id = 0;
};

class Workers {
 public:
  Workers(Mode mode, int count);
  ~Workers();  // stops and joins every worker
  // Spin (yielding) until every worker has made progress at least once.
  void wait_running();
  // Sum of progress counters.
  uint64_t progress() const;
  std::vector<tl_thread_id> ids() const;
  Mode mode() const { return mode_; }

  std::atomic<bool> stop{false};
  int pipe_fds[2] = {-1, -1};
  tl_lock lock = TL_LOCK_INIT;

 private:
  Mode mode_;
  std::vector<Worker> workers_;
};

}  // namespace tltest
