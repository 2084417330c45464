// backtrace_capture.h — the calling thread's backtrace into caller-provided
// fixed storage, safe inside a signal handler, and naming it afterwards.
//
// Invariants:
//   - capture_frames allocates nothing and takes no lock another thread
//     could hold: it steps libunwind's local cursor (unw_init_local,
//     unw_step, unw_get_reg) and writes only instruction pointers into
//     *out. It does not name frames: libunwind's unw_get_proc_name maps
//     the module's ELF image and allocates doing so (ThreadSanitizer
//     reported malloc from _Ux86_64_get_elf_image inside the dump signal),
//     so a thread stopped inside malloc would hang its own dump.
//   - name_frames names captured frames later, outside any handler, from
//     their addresses alone (a cursor re-pointed at each address), so the
//     dumping thread does it once every target has answered.
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

void capture_frames(Frames* out);  // [signal path]
// Fill name[] and off[] for every captured frame. Not for signal handlers.
void name_frames(Frames* f);

// Append `s` / a hex number to a fixed buffer (signal-safe helpers).
size_t sig_append(char* buf, size_t pos, size_t cap, const char* s);
size_t sig_append_hex(char* buf, size_t pos, size_t cap, uintptr_t v);
size_t sig_append_dec(char* buf, size_t pos, size_t cap, long long v);

}  // namespace threadlab
