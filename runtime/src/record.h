// record.h — the context record: everything the runtime knows about one
// thread that can run managed code (the TCR of seed 000).
//
// Invariants:
//   - A record is reachable from the registry from registration until it is
//     retired; it is freed only when no registry walker and no stopped world
//     can still see it (registry.h).
//   - Fields marked [owner] are written only by the thread the record
//     describes; [any] fields are atomics; [reg] fields change only under
//     the registry lock.
//   - `magic` is kRecordMagic exactly while the record is registered, so a
//     stale pointer or a scribbled record is recognised.
#pragma once
#include <pthread.h>
#include <setjmp.h>

#include <atomic>
#include <cstdint>

#include "altstack.h"
#include "death_watch.h"
#include "fault_state.h"
#include "stack.h"
#include "state.h"
#include "thread_handles.h"
#include "threadlab/runtime.h"

namespace tl {

constexpr uint64_t kRecordMagic = 0x7468726561644c62ull;  // "threadLb"
constexpr uint64_t kDeadMagic = 0xdeadbeefdeadbeefull;
constexpr unsigned kMaxSavedRegs = 48;
constexpr unsigned kSizeClasses = 9;  // 16 .. 4096 bytes

struct Slot;
struct InterruptNode;

// A thread's place in one lock's FIFO of waiters (lock.cpp): a thread waits
// on at most one lock, so one node per record serves every lock. `wake` is
// the futex word the waiter sleeps on.
struct LockWaiter {
  LockWaiter* next = nullptr;
  tl_thread_id id = 0;
  uint32_t wake = 0;  // 0 waiting, 1 woken to retry, 2 granted the lock
};
struct CleanupNode;

struct Record {
  uint64_t magic = 0;
  tl_thread_id id = 0;
  // Registry links [reg]; `next` is atomic so lock-free walkers may follow it.
  Record* prev = nullptr;
  std::atomic<Record*> next{nullptr};

  // State word: low byte State, upper bits suspension flags [any].
  std::atomic<uint32_t> state{static_cast<uint32_t>(State::Creating)};
  uint32_t flags = 0;  // TL_FLAG_* [owner before registration]

  // Native ids [owner, written before the record leaves CREATING].
  pthread_t pthread{};
  std::atomic<int64_t> kernel_tid{0};
  uint32_t mach_port = 0;
  char name[TL_NAME_MAX] = {0};

  // Stacks. The control stack is the native one: for spawned threads the
  // slot's aligned region, otherwise the bounds the OS reports.
  uintptr_t control_lo = 0, control_hi = 0;
  bool control_canaries = false;  // canaries at control_lo (spawned threads)
  GuardedStack value;
  GuardedStack temp;
  uintptr_t* value_sp = nullptr;  // [owner] grows upward from value.lo
  uintptr_t temp_sp = 0;          // [owner]
  AltStack altstack;              // [owner] signal alternate stack (altstack.h)
  ThreadHandles handles;          // per-thread kernel handles (thread_handles.h)
  FaultState fault;               // altstack, catch frames, bindings (fault_state.h)

  // Suspension (world.h). saved_* are written by the owner before it
  // publishes acked_gen (release) and read by the stopper after it sees it.
  std::atomic<int> suspend_count{0};
  std::atomic<uint64_t> acked_gen{0};       // last stop generation acknowledged; only grows (ack)
  uint64_t target_gen = 0;                  // [stopper] generation it is a target of
  uint64_t signalled_gen = 0;               // [stopper] generation it was signalled in
  std::atomic<bool> stopped_in_handler{false};
  std::atomic<bool> suspend_pending{false}; // deferred by a no-interrupt window
  std::atomic<uintptr_t> saved_sp{0};       // lowest live address of the control stack
  uintptr_t saved_regs[kMaxSavedRegs] = {};
  unsigned saved_reg_count = 0;
  std::atomic<int> no_interrupt_depth{0};

  // Interrupts and kill (interrupt.cpp, kill.cpp).
  std::atomic<InterruptNode*> interrupts{nullptr};
  std::atomic<bool> kill_requested{false};
  std::atomic<bool> kill_hard{false};
  CleanupNode* cleanups = nullptr;  // [owner] innermost first
  tl_lock* held_locks = nullptr;           // [owner] runtime locks held
  std::atomic<tl_lock*> waiting_on{nullptr};  // lock it is blocked on (wait-for graph)
  LockWaiter lock_wait;                    // its node in that lock's queue (lock.cpp)
  unsigned cleanups_run = 0;               // [owner] by the last kill/exit
  unsigned locks_released = 0;             // [owner] by the last kill/exit
  std::atomic<bool> kill_done{false};

  // Managed heap: per-thread allocation buffers (gc/heap.cpp).
  void* alloc_cache[kSizeClasses] = {};
  int gc_inhibit_depth = 0;  // [owner] without_gcing nesting

  // Managed-code bookkeeping [owner].
  std::atomic<unsigned> callback_depth{0};  // written by the owner, read by lists
  uint64_t callback_prior_foreign[4] = {0, 0, 0, 0};  // bit d: depth d entered from FOREIGN
  int key_destructor_rounds = 0;

  // Adopted threads: the kernel's notice that the thread died holding its
  // record (death_watch.h). `vanished` keeps a Dead answer for the reaper
  // once a stopper has claimed it [any].
  DeathWatch death;
  std::atomic<bool> vanished{false};

  // Spawned threads.
  Slot* slot = nullptr;
  tl_thread_fn fn = nullptr;
  void* arg = nullptr;
  sigjmp_buf exit_env;
  sigset_t start_mask;             // spawner's mask, restored once bound
  pthread_t join_handle{};         // [reg] written by the spawner
  bool join_handle_valid = false;  // [reg]
  std::atomic<bool> join_claimed{false};

  State current_state() const { return state_of(state.load(std::memory_order_acquire)); }
  // Checked transition that honours a pending stop (world.h): leaving a
  // stopped state waits for the resume; leaving MANAGED acknowledges it.
  void move(State from, State to);
  // Publish an acknowledgement of stop `gen` (release). acked_gen only grows:
  // an acknowledgement of an older stop that lands late — the owner was
  // interrupted between choosing its generation and storing it, and the
  // stopper of the next stop acknowledged it by state meanwhile — must not
  // take back the newer one, or that stop waits for an answer the thread
  // has already given. Lock-free and allocation-free (signal path).
  void ack(uint64_t gen) {
    uint64_t cur = acked_gen.load(std::memory_order_relaxed);
    while (cur < gen && !acked_gen.compare_exchange_weak(cur, gen, std::memory_order_release, std::memory_order_relaxed)) {
    }
  }
  bool is_live() const { return magic == kRecordMagic; }
};

// Allocate a record's value and temp stacks; false (and nothing mapped) on
// failure.
bool record_map_stacks(Record* r, size_t value_bytes, size_t temp_bytes);
void record_unmap_stacks(Record* r);
// Reset the per-life fields of a record that is being reused.
void record_reset(Record* r);
// Unmap the stacks of a heap-allocated (non-slot) record and delete it.
void record_delete(Record* r);

}  // namespace tl
