// os_linux.cpp — Linux parts of the platform interface: kernel tids and the
// control-stack bounds glibc knows for the calling thread.
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "os.h"

namespace tl::os {

int64_t kernel_tid() { return static_cast<int64_t>(syscall(SYS_gettid)); }

uint32_t mach_thread_port(pthread_t) { return 0; }

bool control_stack_bounds(Bounds* out) {
  pthread_attr_t attr;
  // For the initial thread glibc reads /proc/self/maps here; callers are
  // never in a signal handler.
  if (pthread_getattr_np(pthread_self(), &attr) != 0) return false;
  void* addr = nullptr;
  size_t size = 0;
  bool ok = pthread_attr_getstack(&attr, &addr, &size) == 0;
  pthread_attr_destroy(&attr);
  if (!ok) return false;
  out->lo = reinterpret_cast<uintptr_t>(addr);
  out->hi = out->lo + size;
  return true;
}

}  // namespace tl::os
