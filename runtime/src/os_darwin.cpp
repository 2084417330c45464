// os_darwin.cpp — Apple parts of the platform interface: thread ids, Mach
// thread ports and stack bounds. Compiled only for Apple targets (checked by
// ci/check-macos, run in the macOS CI jobs); never executed on Linux.
//
// Invariant: pthread_mach_thread_np returns the port the pthread library
// already holds; it adds no user reference, so nothing here deallocates it.
#include <mach/mach.h>
#include <pthread.h>
#include <sys/ucontext.h>

#include <cstdint>

// libSystem's wait-on-address primitives (used by libc++ and Go's runtime).
extern "C" int __ulock_wait(uint32_t operation, void* addr, uint64_t value, uint32_t timeout_us);
extern "C" int __ulock_wake(uint32_t operation, void* addr, uint64_t wake_value);

#include "os.h"

namespace tl::os {

int64_t kernel_tid() {
  uint64_t id = 0;
  pthread_threadid_np(nullptr, &id);
  return static_cast<int64_t>(id);
}

uint32_t mach_thread_port(pthread_t t) { return pthread_mach_thread_np(t); }

bool control_stack_bounds(Bounds* out) {
  pthread_t self = pthread_self();
  uintptr_t hi = reinterpret_cast<uintptr_t>(pthread_get_stackaddr_np(self));
  size_t size = pthread_get_stacksize_np(self);
  out->hi = hi;
  out->lo = hi - size;
  return true;
}

void rwlock_init_writer_preferred(pthread_rwlock_t* lock) {
  // Darwin's rwlock already queues readers behind a waiting writer.
  pthread_rwlock_init(lock, nullptr);
}

uintptr_t context_sp(const void* ucontext) {
  auto* uc = static_cast<const ucontext_t*>(ucontext);
#if defined(__aarch64__) || defined(__arm64__)
  return static_cast<uintptr_t>(__darwin_arm_thread_state64_get_sp(uc->uc_mcontext->__ss));
#else
  return static_cast<uintptr_t>(uc->uc_mcontext->__ss.__rsp);
#endif
}

unsigned context_regs(const void* ucontext, uintptr_t* out, unsigned max) {
  auto* uc = static_cast<const ucontext_t*>(ucontext);
  const auto* ss = reinterpret_cast<const uint64_t*>(&uc->uc_mcontext->__ss);
  unsigned words = sizeof(uc->uc_mcontext->__ss) / sizeof(uint64_t);
  unsigned n = words < max ? words : max;
  for (unsigned i = 0; i < n; ++i) out[i] = static_cast<uintptr_t>(ss[i]);
  return n;
}

void futex_wait(uint32_t* word, uint32_t expected) {
  constexpr uint32_t kCompareAndWait = 1;  // UL_COMPARE_AND_WAIT
  __ulock_wait(kCompareAndWait, word, expected, 0);
}

void futex_wait_for(uint32_t* word, uint32_t expected, unsigned us) {
  constexpr uint32_t kCompareAndWait = 1;
  __ulock_wait(kCompareAndWait, word, expected, us ? us : 1);
}

void futex_wake(uint32_t* word, int count) {
  constexpr uint32_t kCompareAndWait = 1, kWakeAll = 0x100;  // ULF_WAKE_ALL
  __ulock_wake(kCompareAndWait | (count > 1 ? kWakeAll : 0), word, 0);
}

size_t min_signal_stack() { return MINSIGSTKSZ; }

bool failed_signal_delivery(const siginfo_t*) { return false; }

// Another task's threads need its task port (task_for_pid): not shown.
void describe_threads(int, char* buf, size_t cap) {
  if (cap) buf[0] = 0;
}

}  // namespace tl::os
