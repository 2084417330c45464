// proc_probe.h — what the OS says about this process (tests only): mapping
// count and threads, to check that the runtime's ledger tells the truth.
#pragma once
#include <cstddef>

namespace tltest {

size_t mapping_count();   // lines of /proc/self/maps (0 where absent)
size_t task_count();      // entries of /proc/self/task
// Keep the C library's own mappings steady while a test counts (one malloc
// arena on glibc; nothing to do elsewhere).
void steady_malloc();

}  // namespace tltest
