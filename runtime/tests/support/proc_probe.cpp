// proc_probe.cpp — /proc readers for the tests (Linux; 0 elsewhere).
#include "proc_probe.h"

#include <dirent.h>

#include <cstdio>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace tltest {

size_t mapping_count() {
  FILE* f = std::fopen("/proc/self/maps", "r");
  if (!f) return 0;
  size_t n = 0;
  int c;
  while ((c = std::fgetc(f)) != EOF)
    if (c == '\n') ++n;
  std::fclose(f);
  return n;
}

size_t task_count() {
  DIR* d = opendir("/proc/self/task");
  if (!d) return 0;
  size_t n = 0;
  while (dirent* e = readdir(d))
    if (e->d_name[0] != '.') ++n;
  closedir(d);
  return n;
}

void steady_malloc() {
#if defined(__GLIBC__)
  mallopt(M_ARENA_MAX, 1);
#endif
}

}  // namespace tltest
