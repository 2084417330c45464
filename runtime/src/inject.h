// inject.h — named bug-injection points (TL_INJECT).
//
// Each defect from the bug catalogue is a clearly marked branch:
//     if (TL_INJECT(adopted_record_not_released)) { ...the defect... }
// compiled in unless TL_INJECTION is off (the release preset), and enabled at
// run time by THREADLAB_INJECT=name[,name] (read by tl_init) or
// tl_inject_enable(). Checking a point is one relaxed load and a bit test,
// safe in signal handlers.
#pragma once
#include <atomic>
#include <cstdint>

namespace tl::inject {

enum Point : unsigned {
#define X(name, what) name,
#include "inject_points.def"
#undef X
  kCount
};
static_assert(kCount <= 64, "injection mask is one 64-bit word");

extern std::atomic<uint64_t> g_enabled;

inline bool enabled(Point p) {
  return (g_enabled.load(std::memory_order_relaxed) >> p) & 1u;
}

// Parse and enable a comma-separated list; returns TL_OK or TL_EINJECT.
int enable_list(const char* names);

}  // namespace tl::inject

#ifndef TL_INJECTION_COMPILED
#define TL_INJECTION_COMPILED 1
#endif

#if TL_INJECTION_COMPILED
#define TL_INJECT(name) (__builtin_expect(::tl::inject::enabled(::tl::inject::name), 0))
#else
#define TL_INJECT(name) (false)
#endif
