// inject.cpp — parsing THREADLAB_INJECT and the injection-point table.
#include "inject.h"

#include <cstring>

#include "status.h"

namespace tl::inject {

std::atomic<uint64_t> g_enabled{0};

namespace {
const char* const kNames[] = {
#define X(name, state, what) #name,
#include "inject_points.def"
#undef X
    nullptr};

// Parses `names` into *mask; TL_OK or the failure, with its message.
int parse_list(const char* names, uint64_t* mask) {
  *mask = 0;
  if (!names) return TL_OK;
  const char* p = names;
  while (*p) {
    const char* end = std::strchr(p, ',');
    size_t len = end ? static_cast<size_t>(end - p) : std::strlen(p);
    if (len > 0) {
      bool found = false;
      for (unsigned i = 0; i < kCount; ++i) {
        if (std::strlen(kNames[i]) == len && std::strncmp(kNames[i], p, len) == 0) {
          if (kState[i] == State::planned)
            return fail(TL_EINJECT, "'%.*s' is a planned injection point: no defect is behind it yet",
                        static_cast<int>(len), p);
          *mask |= uint64_t{1} << i;
          found = true;
        }
      }
      if (!found)
        return fail(TL_EINJECT, "'%.*s' is not an injection point (see tl_inject_names)",
                    static_cast<int>(len), p);
    }
    if (!end) break;
    p = end + 1;
  }
  if (*mask && !TL_INJECTION_COMPILED)
    return fail(TL_ENOTSUP, "this build has the injection points compiled out (release preset)");
  return TL_OK;
}

}  // namespace

int check_list(const char* names) {
  uint64_t mask = 0;
  return parse_list(names, &mask);
}

int enable_list(const char* names) {
  uint64_t mask = 0;
  if (int rc = parse_list(names, &mask); rc != TL_OK) return rc;
  g_enabled.fetch_or(mask);
  return TL_OK;
}

}  // namespace tl::inject

extern "C" int tl_injection_compiled(void) { return TL_INJECTION_COMPILED; }
extern "C" int tl_inject_enable(const char* names) { return tl::inject::enable_list(names); }
// Validates like tl_inject_enable without enabling anything (for a harness
// that refuses a bad THREADLAB_INJECT before it starts a run). Not yet in
// runtime.h: the reference adapter declares it.
extern "C" int tl_inject_check(const char* names) { return tl::inject::check_list(names); }
extern "C" const char* const* tl_inject_names(void) { return tl::inject::kNames; }
