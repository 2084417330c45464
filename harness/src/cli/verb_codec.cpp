// verb_codec.cpp — threadlab decode, encode (stub until implemented).
#include <cstdio>

#include "cli/verbs.h"

namespace threadlab {
int verb_decode(const CodecOptions&) {
  std::fprintf(stderr, "threadlab: verb 'decode' is not implemented yet\n");
  return 2;
}
int verb_encode(const CodecOptions&) {
  std::fprintf(stderr, "threadlab: verb 'encode' is not implemented yet\n");
  return 2;
}
}  // namespace threadlab
