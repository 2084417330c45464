// backtrace_capture.h — the calling thread's backtrace into caller-provided
// fixed storage, safe inside a signal handler.
//
// Invariant: capture_frames allocates nothing and takes no lock another
// thread could hold: it uses libunwind's local cursor (unw_init_local,
// unw_step, unw_get_proc_name are documented signal-safe for the local
// address space) and writes only into *out.
#pragma once

#include <cstddef>
#include <cstdint>

namespace threadlab {

struct Frames {
  static constexpr int kMax = 48;
  int n = 0;
  int signal_frame = -1;  // index of the signal trampoline frame, -1 if none
  uintptr_t ip[kMax];
  uintptr_t off[kMax];
  char name[kMax][160];
};

void capture_frames(Frames* out);

// Append `s` / a hex number to a fixed buffer (signal-safe helpers).
size_t sig_append(char* buf, size_t pos, size_t cap, const char* s);
size_t sig_append_hex(char* buf, size_t pos, size_t cap, uintptr_t v);
size_t sig_append_dec(char* buf, size_t pos, size_t cap, long long v);

}  // namespace threadlab
