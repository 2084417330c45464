// scenario_os_linux.cpp — Linux: a per-thread handle is an eventfd.
#include <sys/eventfd.h>

#include "scenario_os.h"

namespace threadlab::scn {
int open_thread_handle() { return eventfd(0, EFD_CLOEXEC); }
}  // namespace threadlab::scn
