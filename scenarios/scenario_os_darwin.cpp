// scenario_os_darwin.cpp — Apple: a per-thread handle is a kqueue.
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

}  // namespace threadlab::scn
