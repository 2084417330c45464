// thread_handles.h — the per-thread kernel handles a record owns, and their
// lifecycle. Linux: a CPU-time timer (timer_create on
// CLOCK_THREAD_CPUTIME_ID, SIGEV_THREAD_ID to the thread itself) that drives
// the thread's CPU-time tick (tl_set_cpu_tick, tl_thread_cpu_ticks). Apple:
// the thread's Mach exception port (thread_handles_darwin.cpp).
//
// Invariants:
//   - A spawned or adopted thread acquires its handles on itself, before it
//     runs managed code (thread_main, adoption); the initial thread has
//     none. A failure is an error of that thread's start (tl_join, or
//     tl_callback_enter), never a silent thread without its handles.
//   - Handles are released exactly once per life: by the thread's teardown
//     (thread_release, key destructor; killed threads take the same path) or,
//     for an adopted thread that died without it, by the reaper — both under
//     the registry lock, before the record can be reused or freed. Whoever
//     walks records to re-arm timers holds that lock too, so it never
//     touches a released handle.
//   - Where the platform refuses the handle outright (no SIGEV_THREAD_ID
//     timers) or gives too few for a thread each (qemu-user: 32 timers)
//     handles are off for the whole process, found once at tl_init and stated
//     by tl_thread_handles_supported(); nothing then fails per thread.
//   - The tick handler (Linux) allocates nothing and takes no lock: it bumps
//     two atomics. [signal path: thread_handles_linux.cpp]
#pragma once
#include <atomic>
#include <cstdint>

namespace tl {

struct Record;

constexpr unsigned kMaxSavedExceptionPorts = 16;  // >= EXC_TYPES_COUNT

struct ThreadHandles {
  bool live = false;  // acquired and not yet released [owner; reaper once dead]
  int start_errno = 0;  // a spawned thread's failed acquisition, for tl_join
  uintptr_t timer = 0;  // Linux: timer_t
  std::atomic<uint64_t> ticks{0};  // CPU-time ticks delivered to this thread
  // Apple: the exception port, and what the thread had before.
  uint32_t port = 0;
  uint32_t thread_port = 0;
  uint32_t saved_count = 0;
  uint32_t saved_masks[kMaxSavedExceptionPorts] = {};
  uint32_t saved_ports[kMaxSavedExceptionPorts] = {};
  int saved_behaviors[kMaxSavedExceptionPorts] = {};
  int saved_flavors[kMaxSavedExceptionPorts] = {};
};

// Ticks delivered to any thread (tl_counters.cpu_ticks).
extern std::atomic<uint64_t> g_cpu_ticks_total;

// Once, from tl_init: find whether the platform gives these handles.
void handles_init();
// Acquire the calling thread's handles for r. TL_OK, or a failed status with
// the message set (fail()); r->handles.start_errno keeps the errno.
int handles_acquire(Record* r);
// Release r's handles if it holds them (idempotent). Registry lock held.
void handles_release(Record* r);
// In a fork child (fork.h), where no per-thread handle survives (POSIX
// timers and Mach ports are not inherited): a vanished thread's handle is
// forgotten, uncounted, never destroyed (its id may name a handle made
// later); the forking thread's is made anew, or forgotten if that fails.
void handles_after_fork(Record* r, bool survivor);
// What the platform's per-thread handle is, for messages.
const char* handles_what();

// The platform half (thread_handles_linux.cpp, thread_handles_darwin.cpp).
namespace handles_os {
// 0 when the platform gives the handle; otherwise an errno meaning "never
// here", with *why saying so.
int probe(const char** why);
// Create the calling thread's handle into h, armed with period_ns (0:
// disarmed); 0 or an errno.
int create(ThreadHandles* h, uint64_t period_ns);
// Destroy h's handle; the thread may be dead (reaper).
void destroy(ThreadHandles* h);
// Re-arm a live handle with a new period (Linux timers; no-op on Apple).
void arm(ThreadHandles* h, uint64_t period_ns);
// Install the tick's signal handler (Linux); false with errno on failure.
bool install_tick_handler();
const char* what();
}  // namespace handles_os

}  // namespace tl
