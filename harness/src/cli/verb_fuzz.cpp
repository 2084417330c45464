// verb_fuzz.cpp — threadlab fuzz (stub until implemented).
#include <cstdio>

#include "cli/verbs.h"

namespace threadlab {
int verb_fuzz(const FuzzOptions&) {
  std::fprintf(stderr, "threadlab: verb 'fuzz' is not implemented yet\n");
  return 2;
}
}  // namespace threadlab
