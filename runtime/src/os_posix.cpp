// os_posix.cpp — POSIX parts of the platform interface: memory mapping,
// thread creation, raw writes, and the simulated-failure counters.
//
// Invariants: the simulated-failure counters are plain atomics, so a test
// can arm them from any thread and the next real call consumes one. The nth
// counter (tl_os_fail_nth) is the calling thread's own, a plain thread-local
// (no dynamic initialisation, so reading it is async-signal-safe), consulted
// in should_fail before the per-call counters: every simulated-failure-capable
// call counts, whichever call it is.
#include <errno.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <initializer_list>

#include "os.h"
#include "sanitizer_policy.h"
#include "threadlab/runtime.h"

namespace tl::os {
namespace {
constexpr int kOsCalls = 8;  // > every tl_os_call
std::atomic<int> g_fail[kOsCalls];
// Calls left until the one that fails; 0: disarmed. Signal-path code:
// should_fail runs inside altstack_put, which signal handlers call — a
// thread-local of a static library (no dynamic TLS, no allocation, no lock).
thread_local unsigned t_fail_nth = 0;
}

bool should_fail(int call) {
  if (call < 0 || call >= kOsCalls) return false;
  if (t_fail_nth != 0 && --t_fail_nth == 0) return true;
  int n = g_fail[call].load(std::memory_order_relaxed);
  while (n > 0) {
    if (g_fail[call].compare_exchange_weak(n, n - 1)) return true;
  }
  return false;
}

void block_async_signals(sigset_t* old) {
  sigset_t set;
  sigfillset(&set);
  for (int sig : {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP, SIGABRT}) sigdelset(&set, sig);
  pthread_sigmask(SIG_BLOCK, &set, old);
}

size_t page_size() {
  static const size_t ps = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  return ps;
}

static int prot_bits(Prot p) { return p == Prot::None ? PROT_NONE : p == Prot::Read ? PROT_READ : PROT_READ | PROT_WRITE; }

void* map(size_t bytes, Prot prot) {
  if (should_fail(TL_OS_MMAP)) {
    errno = ENOMEM;
    return nullptr;
  }
  int flags = MAP_PRIVATE | MAP_ANON;
#ifdef MAP_NORESERVE
  if (prot == Prot::None) flags |= MAP_NORESERVE;
#endif
  void* p = mmap(nullptr, bytes, prot_bits(prot), flags, -1, 0);
  return p == MAP_FAILED ? nullptr : p;
}

void* map_aligned(size_t bytes, size_t align, Prot prot) {
  size_t span = bytes + align;
  char* raw = static_cast<char*>(map(span, prot));
  if (!raw) return nullptr;
  uintptr_t a = (reinterpret_cast<uintptr_t>(raw) + align - 1) & ~(uintptr_t)(align - 1);
  char* start = reinterpret_cast<char*>(a);
  size_t front = static_cast<size_t>(start - raw);
  size_t back = span - front - bytes;
  if (front) munmap(raw, front);
  if (back) munmap(start + bytes, back);
  return start;
}

bool protect(void* addr, size_t bytes, Prot prot) {
  return mprotect(addr, bytes, prot_bits(prot)) == 0;
}

bool decommit(void* addr, size_t bytes) {
  // Replacing the range with a fresh PROT_NONE mapping drops the pages and
  // keeps the reservation, on every POSIX system.
  void* p = mmap(addr, bytes, PROT_NONE, MAP_PRIVATE | MAP_ANON | MAP_FIXED
#ifdef MAP_NORESERVE
                                             | MAP_NORESERVE
#endif
                 , -1, 0);
  return p != MAP_FAILED;
}

void unmap(void* addr, size_t bytes) { munmap(addr, bytes); }

int thread_create(pthread_t* out, pthread_attr_t* attr, void* (*fn)(void*), void* arg, sigset_t* caller_mask) {
  if (should_fail(TL_OS_THREAD_CREATE)) return EAGAIN;
  sigset_t all;
  sigfillset(&all);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
  if (!kSanitizerResetsStartMask) {
    // The C library installs the start mask in the new thread itself: the
    // caller's mask is read, never changed (one system call, not two).
    pthread_sigmask(SIG_BLOCK, nullptr, caller_mask);
    if (int e = pthread_attr_setsigmask_np(attr, &all)) return e;
    return pthread_create(out, attr, fn, arg);
  }
#endif
  // A new thread inherits its creator's mask.
  pthread_sigmask(SIG_SETMASK, &all, caller_mask);
  int e = pthread_create(out, attr, fn, arg);
  pthread_sigmask(SIG_SETMASK, caller_mask, nullptr);
  return e;
}

void write_all(int fd, const char* buf, size_t len) {
  while (len > 0) {
    ssize_t n = ::write(fd, buf, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;
    }
    buf += n;
    len -= static_cast<size_t>(n);
  }
}

}  // namespace tl::os

extern "C" void tl_os_fail_nth(unsigned nth) { tl::os::t_fail_nth = nth; }

extern "C" void tl_os_fail_next(int call, int n) {
  if (call < 0 || call >= tl::os::kOsCalls) return;
  tl::os::g_fail[call].store(n < 0 ? 0 : n);
}
