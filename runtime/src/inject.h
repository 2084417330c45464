// inject.h — named bug-injection points (TL_INJECT).
//
// Each defect from the bug catalogue is a clearly marked branch:
//     if (TL_INJECT(adopted_record_not_released)) { ...the defect... }
// compiled in unless TL_INJECTION is off (the release preset), and enabled at
// run time by THREADLAB_INJECT=name[,name] (read by tl_init) or
// tl_inject_enable(). Checking a point is one relaxed load and a bit test,
// safe in signal handlers.
//
// Invariants:
//   - Only a point marked live in inject_points.def can be enabled or named
//     in TL_INJECT (a planned one fails to compile there, and is refused at
//     run time with TL_EINJECT), so no name silently does nothing.
#pragma once
#include <atomic>
#include <cstdint>

namespace tl::inject {

enum Point : unsigned {
#define X(name, state, what) name,
#include "inject_points.def"
#undef X
  kCount
};
static_assert(kCount <= 64, "injection mask is one 64-bit word");

enum class State { live, planned };
constexpr State kState[] = {
#define X(name, state, what) State::state,
#include "inject_points.def"
#undef X
};

template <Point P>
constexpr bool live_point() {
  static_assert(kState[P] == State::live, "TL_INJECT names a planned point: mark it live in inject_points.def");
  return true;
}

extern std::atomic<uint64_t> g_enabled;

inline bool enabled(Point p) {
  return (g_enabled.load(std::memory_order_relaxed) >> p) & 1u;
}

// Parse a comma-separated list of live points; TL_OK, TL_EINJECT (unknown
// or planned name, tl_last_error names it) or TL_ENOTSUP (compiled out).
// check_list only parses; enable_list then enables them.
int check_list(const char* names);
int enable_list(const char* names);

}  // namespace tl::inject

#ifndef TL_INJECTION_COMPILED
#define TL_INJECTION_COMPILED 1
#endif

#if TL_INJECTION_COMPILED
#define TL_INJECT(name) \
  (::tl::inject::live_point<::tl::inject::name>() && __builtin_expect(::tl::inject::enabled(::tl::inject::name), 0))
#else
#define TL_INJECT(name) (::tl::inject::live_point<::tl::inject::name>() && false)
#endif
