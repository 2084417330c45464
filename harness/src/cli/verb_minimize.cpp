// verb_minimize.cpp — threadlab minimize (stub until implemented).
#include <cstdio>

#include "cli/verbs.h"

namespace threadlab {
int verb_minimize(const MinimizeOptions&) {
  std::fprintf(stderr, "threadlab: verb 'minimize' is not implemented yet\n");
  return 2;
}
}  // namespace threadlab
