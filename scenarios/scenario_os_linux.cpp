// scenario_os_linux.cpp — Linux: a per-thread handle is an eventfd.
#include <sys/syscall.h>
#include <unistd.h>
#include <malloc.h>
#include <sys/eventfd.h>

#include "scenario_os.h"

namespace threadlab::scn {
int open_thread_handle() { return eventfd(0, EFD_CLOEXEC); }
void share_one_malloc_lock() { mallopt(M_ARENA_MAX, 1); }
long current_tid() { return static_cast<long>(syscall(SYS_gettid)); }

void send_to_tid(int pid, long tid, int sig) { syscall(SYS_tgkill, pid, static_cast<int>(tid), sig); }

bool start_argument_on_stack() {
#if defined(__GLIBC__)
  return true;  // struct pthread (with its `arg`) sits at the top of the stack pthread_getattr_np reports
#else
  return false;  // other C libraries: not known
#endif
}

}  // namespace threadlab::scn
