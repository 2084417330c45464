// backtrace_capture.cpp — see backtrace_capture.h. capture_frames and the
// sig_append helpers are called from signal handlers: no allocation, no
// locks, no stdio. name_frames is not.
#define UNW_LOCAL_ONLY
#include "child/backtrace_capture.h"

#include <libunwind.h>

namespace threadlab {

void capture_frames(Frames* out) {
  out->n = 0;
  out->signal_frame = -1;
  unw_context_t ctx;
  unw_cursor_t cur;
  if (unw_getcontext(&ctx) != 0 || unw_init_local(&cur, &ctx) != 0) return;
  do {
    int i = out->n;
    unw_word_t ip = 0;
    unw_get_reg(&cur, UNW_REG_IP, &ip);
    out->ip[i] = ip;
    out->name[i][0] = '\0';
    out->off[i] = 0;
    if (out->signal_frame < 0 && unw_is_signal_frame(&cur) > 0) out->signal_frame = i;
    out->n = i + 1;
  } while (out->n < Frames::kMax && unw_step(&cur) > 0);
}

void name_frames(Frames* f) {
  for (int i = 0; i < f->n; ++i) {
    // A frame above another holds a return address, which may be the first
    // byte after a call at the very end of its function: look up the call.
    const bool return_address = i > 0 && i - 1 != f->signal_frame;
    const unw_word_t at = f->ip[i] - (return_address ? 1 : 0);
    unw_context_t ctx;
    unw_cursor_t cur;
    unw_word_t off = 0;
    f->name[i][0] = '\0';
    f->off[i] = 0;
    if (unw_getcontext(&ctx) != 0 || unw_init_local(&cur, &ctx) != 0 || unw_set_reg(&cur, UNW_REG_IP, at) != 0)
      continue;
    if (unw_get_proc_name(&cur, f->name[i], sizeof f->name[i], &off) != 0 && f->name[i][0] == '\0') continue;
    f->off[i] = off + (return_address ? 1 : 0);
  }
}

size_t sig_append(char* buf, size_t pos, size_t cap, const char* s) {
  while (*s && pos + 1 < cap) buf[pos++] = *s++;
  buf[pos < cap ? pos : cap - 1] = '\0';
  return pos;
}

size_t sig_append_hex(char* buf, size_t pos, size_t cap, uintptr_t v) {
  char tmp[2 + 2 * sizeof v + 1];
  int n = 0;
  do {
    tmp[n++] = "0123456789abcdef"[v & 15];
    v >>= 4;
  } while (v);
  pos = sig_append(buf, pos, cap, "0x");
  while (n > 0 && pos + 1 < cap) buf[pos++] = tmp[--n];
  buf[pos < cap ? pos : cap - 1] = '\0';
  return pos;
}

size_t sig_append_dec(char* buf, size_t pos, size_t cap, long long v) {
  char tmp[24];
  int n = 0;
  bool neg = v < 0;
  unsigned long long u = neg ? 0ull - static_cast<unsigned long long>(v) : static_cast<unsigned long long>(v);
  do {
    tmp[n++] = static_cast<char>('0' + u % 10);
    u /= 10;
  } while (u);
  if (neg) pos = sig_append(buf, pos, cap, "-");
  while (n > 0 && pos + 1 < cap) buf[pos++] = tmp[--n];
  buf[pos < cap ? pos : cap - 1] = '\0';
  return pos;
}

}  // namespace threadlab
