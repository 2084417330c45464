// verb_replay.cpp — threadlab replay (stub until implemented).
#include <cstdio>

#include "cli/verbs.h"

namespace threadlab {
int verb_replay(const ReplayOptions&) {
  std::fprintf(stderr, "threadlab: verb 'replay' is not implemented yet\n");
  return 2;
}
}  // namespace threadlab
