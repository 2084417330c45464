// fault_common.h — helpers the fault scenarios share: provoking a fault
// through the adapter and judging what came back, a foreign thread's own
// small altstack, and a storm of unrelated signals.
//
// Invariants:
//   - provoke() records a finding for any result but TL_ADAPTER_OK, with
//     the adapter's own words: a runtime that caught a scribble says so, and
//     the generic integrity check reports it too.
//   - OwnAltstack puts back exactly what the thread had when it goes out of
//     scope; its memory is freed only after that.
//   - SignalStorm installs counting handlers without SA_RESTART (so every
//     blocking call in the runtime meets EINTR), once per process and for
//     good: a signal still pending at a thread that blocks it must not meet
//     a default action (SIGPROF and SIGUSR2 terminate). Its sender threads
//     and its sender process (a forked child, tgkill on a snapshot of the
//     targets' tids) are stopped before any target may exit: targets stay
//     alive until stop() returns. Each sender pauses 20 us between
//     signals (fault_common.cpp says why).
#pragma once
#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#include "common.h"

namespace threadlab::scn {

// Provoke one fault of `kind` (TL_FAULT_*) on the calling thread; false
// with a finding when the runtime did not recover as promised.
bool provoke(Context& ctx, int kind, const char* where);
// End a cycle that took write-barrier faults with the barrier re-armed
// (a collection re-arms it): each dirty card leaves its page read-write, a
// separate mapping beside the read-only rest, so a cycle that ended with
// some dirty showed the leak probe mappings that come and go (a false
// `leak` on maps_count). Where the adapter cannot collect, nothing to do.
// False, with a finding, if the collection failed.
bool rearm_barrier(Context& ctx);
// Switch the fault mode; false with a finding (or skip-worthy false when the
// adapter has no fault_mode: *unsupported set).
bool set_fault_mode(Context& ctx, int mode, bool* unsupported = nullptr);

// The calling thread runs on its own altstack of `bytes` while this lives.
class OwnAltstack {
 public:
  explicit OwnAltstack(size_t bytes);
  ~OwnAltstack();
  bool ok() const { return ok_; }
  void* base() const { return mem_; }

 private:
  stack_t prev_{};
  void* mem_ = nullptr;
  bool ok_ = false;
};

// A flood of SIGCHLD, SIGURG, SIGPROF and SIGUSR2 at registered threads and
// at the whole process, from `senders` threads, until stop().
class SignalStorm {
 public:
  explicit SignalStorm(int senders);
  ~SignalStorm();
  void add_target(pthread_t t, int64_t tid);
  // Fork the sender process, aimed at the targets added so far.
  void start_process_sender();
  void stop();
  uint64_t delivered() const;

 private:
  void send_loop(int i);
  std::mutex mu_;
  std::vector<pthread_t> targets_;
  std::vector<int64_t> tids_;
  std::vector<std::thread> senders_;
  std::atomic<bool> stop_{false};
  int child_ = -1;
};

}  // namespace threadlab::scn
