// scenario_os_linux.cpp — Linux: a per-thread handle is an eventfd.
#include <malloc.h>
#include <sys/eventfd.h>

#include "scenario_os.h"

namespace threadlab::scn {
int open_thread_handle() { return eventfd(0, EFD_CLOEXEC); }
void share_one_malloc_lock() { mallopt(M_ARENA_MAX, 1); }
}  // namespace threadlab::scn
