// os_darwin.cpp — Apple parts of the platform interface: thread ids, Mach
// thread ports and stack bounds. Compiled only for Apple targets (checked by
// ci/check-macos, run in the macOS CI jobs); never executed on Linux.
//
// Invariant: pthread_mach_thread_np returns the port the pthread library
// already holds; it adds no user reference, so nothing here deallocates it.
#include <mach/mach.h>
#include <pthread.h>

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

}  // namespace tl::os
