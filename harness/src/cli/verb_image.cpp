// verb_image.cpp — `threadlab image check FILE`: verify a heap image (the
// adapter's image_check: header, version, checksum, blocks) in this fresh
// process. Exit 0 for a good image, 1 for a bad one (the message says what
// is wrong), 2 when no adapter can check images.
#include <cstdio>

#include "adapters/builtin.h"
#include "cli/verbs.h"

namespace threadlab {

int verb_image_check(const ImageOptions& o) {
  const tl_adapter* a = find_adapter(o.adapter);
  if (!a) {
    std::fprintf(stderr, "threadlab image check: unknown adapter '%s' (threadlab list names them)\n", o.adapter.c_str());
    return 2;
  }
  if (!(a->caps & TL_CAP_IMAGE)) {
    std::fprintf(stderr, "threadlab image check: adapter '%s' has no heap images (capability 'image')\n", a->name);
    return 2;
  }
  if (a->init() != TL_ADAPTER_OK) {
    std::fprintf(stderr, "threadlab image check: adapter '%s' failed to start: %s\n", a->name, a->last_error());
    return 2;
  }
  if (a->image_check(o.file.c_str()) != TL_ADAPTER_OK) {
    std::fprintf(stderr, "threadlab image check: %s: BAD: %s\n", o.file.c_str(), a->last_error());
    return 1;
  }
  std::printf("%s: ok\n", o.file.c_str());
  return 0;
}

}  // namespace threadlab
