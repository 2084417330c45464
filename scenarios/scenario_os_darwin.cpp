// scenario_os_darwin.cpp — Apple: a per-thread handle is a kqueue.
#include <sys/event.h>

#include "scenario_os.h"

namespace threadlab::scn {
int open_thread_handle() { return kqueue(); }
}  // namespace threadlab::scn
