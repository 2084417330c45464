// sigsafe_buf.h — a fixed-size text buffer for code that runs in signal
// handlers or on the fatal path.
//
// Invariant: no allocation, no locks, no libc formatting (snprintf may take
// locale locks); overflow truncates silently.
#pragma once
#include <cstddef>
#include <cstdint>

namespace tl {

template <size_t N>
class SigsafeBuf {
 public:
  SigsafeBuf& str(const char* s) {
    while (s && *s && len_ < N - 1) buf_[len_++] = *s++;
    buf_[len_] = 0;
    return *this;
  }
  SigsafeBuf& dec(int64_t v) {
    char tmp[24];
    int i = 0;
    bool neg = v < 0;
    uint64_t u = neg ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
    do {
      tmp[i++] = static_cast<char>('0' + u % 10);
      u /= 10;
    } while (u);
    if (neg) tmp[i++] = '-';
    while (i > 0 && len_ < N - 1) buf_[len_++] = tmp[--i];
    buf_[len_] = 0;
    return *this;
  }
  SigsafeBuf& hex(uint64_t v) {
    static const char digits[] = "0123456789abcdef";
    char tmp[16];
    int i = 0;
    do {
      tmp[i++] = digits[v & 15];
      v >>= 4;
    } while (v);
    str("0x");
    while (i > 0 && len_ < N - 1) buf_[len_++] = tmp[--i];
    buf_[len_] = 0;
    return *this;
  }
  const char* c_str() const { return buf_; }
  size_t size() const { return len_; }

 private:
  char buf_[N] = {0};
  size_t len_ = 0;
};

}  // namespace tl
