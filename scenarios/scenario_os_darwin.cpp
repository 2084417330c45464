// scenario_os_darwin.cpp — Apple: a per-thread handle is a kqueue.
#include <pthread.h>
#include <sys/event.h>

#include "scenario_os.h"

namespace threadlab::scn {
int open_thread_handle() { return kqueue(); }
// libmalloc's zones keep their own per-CPU magazines and locks; there is no
// switch to put every thread behind one.
void share_one_malloc_lock() {}
long current_tid() { return 0; }

void send_to_tid(int, long, int) {}
// libpthread's thread structure lies above the stack top it reports.
bool start_argument_on_stack() { return false; }

// The address space is not read here (mach_vm_region would do it); callers
// skip the checks that need it.
Access region_access(uintptr_t, uintptr_t) { return Access::Unknown; }
bool own_stack_bounds(uintptr_t* lo, uintptr_t* hi) {
  pthread_t self = pthread_self();
  *hi = reinterpret_cast<uintptr_t>(pthread_get_stackaddr_np(self));
  *lo = *hi - pthread_get_stacksize_np(self);
  return true;
}

// Another task's threads need its task port (task_for_pid): not here.
std::string describe_threads(int) { return {}; }

}  // namespace threadlab::scn
