// os_sigframe_darwin.cpp — Apple: the interrupted stack pointer of a thread
// on its altstack is not read from the signal frame (its layout is not
// relied on); the collector then scans the whole mapped control stack,
// which is conservative and correct (altstack.h).
#include "os.h"

namespace tl::os {

uintptr_t altstack_interrupted_sp(uintptr_t, uintptr_t, uintptr_t, uintptr_t) { return 0; }

}  // namespace tl::os
