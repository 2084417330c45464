// verb_repro.cpp — threadlab repro (stub until implemented).
#include <cstdio>

#include "cli/verbs.h"

namespace threadlab {
int verb_repro(const ReproOptions&) {
  std::fprintf(stderr, "threadlab: verb 'repro' is not implemented yet\n");
  return 2;
}
}  // namespace threadlab
