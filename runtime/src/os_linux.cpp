// os_linux.cpp — Linux parts of the platform interface: kernel tids and the
// control-stack bounds glibc knows for the calling thread.
//
// SIGNAL PATH: this file holds code that runs in signal handlers; nothing
// in it allocates or takes a lock (runtime/tests/sigpath_check.py checks
// its object file for allocator and lock symbols).
#include <dirent.h>
#include <linux/futex.h>
#include <string.h>

#include <cstdio>
#include <pthread.h>
#include <time.h>
#include <ucontext.h>
#include <signal.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "os.h"

namespace tl::os {

int64_t kernel_tid() {
  // The C library keeps the tid in the thread's descriptor and derives the
  // thread's CPU-time clock id from it in the kernel's encoding
  // (~tid << 3 | CPUCLOCK_PERTHREAD | CPUCLOCK_SCHED): decoding it is a load,
  // not a system call, and async-signal-safe. gettid if it does not decode.
  clockid_t c;
  if (pthread_getcpuclockid(pthread_self(), &c) == 0 && (c & 7) == 6) {
    const int64_t tid = ~(static_cast<int64_t>(c) >> 3);
    if (tid > 0) return tid;
  }
  return static_cast<int64_t>(syscall(SYS_gettid));
}

uint32_t mach_thread_port(pthread_t) { return 0; }

bool control_stack_bounds(Bounds* out) {
  pthread_attr_t attr;
  // For the initial thread glibc reads /proc/self/maps here; callers are
  // never in a signal handler.
  if (pthread_getattr_np(pthread_self(), &attr) != 0) return false;
  void* addr = nullptr;
  size_t size = 0;
  bool ok = pthread_attr_getstack(&attr, &addr, &size) == 0;
  pthread_attr_destroy(&attr);
  if (!ok) return false;
  out->lo = reinterpret_cast<uintptr_t>(addr);
  out->hi = out->lo + size;
  return true;
}

void rwlock_init_writer_preferred(pthread_rwlock_t* lock) {
  pthread_rwlockattr_t a;
  pthread_rwlockattr_init(&a);
  pthread_rwlockattr_setkind_np(&a, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
  pthread_rwlock_init(lock, &a);
  pthread_rwlockattr_destroy(&a);
}

uintptr_t context_sp(const void* ucontext) {
  auto* uc = static_cast<const ucontext_t*>(ucontext);
#if defined(__x86_64__)
  return static_cast<uintptr_t>(uc->uc_mcontext.gregs[REG_RSP]);
#elif defined(__aarch64__)
  return static_cast<uintptr_t>(uc->uc_mcontext.sp);
#else
#error "threadlab: context_sp needs this architecture's ucontext layout"
#endif
}

unsigned context_regs(const void* ucontext, uintptr_t* out, unsigned max) {
  auto* uc = static_cast<const ucontext_t*>(ucontext);
#if defined(__x86_64__)
  unsigned n = NGREG < max ? NGREG : max;
  for (unsigned i = 0; i < n; ++i) out[i] = static_cast<uintptr_t>(uc->uc_mcontext.gregs[i]);
#elif defined(__aarch64__)
  unsigned n = 31 < max ? 31 : max;
  for (unsigned i = 0; i < n; ++i) out[i] = static_cast<uintptr_t>(uc->uc_mcontext.regs[i]);
#endif
  return n;
}

void futex_wait(uint32_t* word, uint32_t expected) {
  syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, expected, nullptr, nullptr, 0);
}

void futex_wait_for(uint32_t* word, uint32_t expected, unsigned us) {
  timespec ts{static_cast<time_t>(us / 1000000u), static_cast<long>(us % 1000000u) * 1000};
  syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, expected, &ts, nullptr, 0);
}

void futex_wake(uint32_t* word, int count) {
  syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, count, nullptr, nullptr, 0);
}

size_t min_signal_stack() {
#ifndef AT_MINSIGSTKSZ
#define AT_MINSIGSTKSZ 51
#endif
  const size_t k = static_cast<size_t>(getauxval(AT_MINSIGSTKSZ));
  const size_t floor = static_cast<size_t>(MINSIGSTKSZ);
  return k > floor ? k : floor;
}

bool failed_signal_delivery(const siginfo_t* si) { return si->si_code == SI_KERNEL && si->si_addr == nullptr; }

void describe_threads(int pid, char* buf, size_t cap) {
  if (!cap) return;
  buf[0] = 0;
  char dir[64];
  std::snprintf(dir, sizeof dir, "/proc/%d/task", pid);
  DIR* d = opendir(dir);
  if (!d) return;
  size_t used = 0;
  auto first_line = [](const char* path, char* out, size_t n) {
    out[0] = 0;
    if (FILE* f = std::fopen(path, "re")) {
      if (!std::fgets(out, static_cast<int>(n), f)) out[0] = 0;
      std::fclose(f);
    }
    out[strcspn(out, "\n")] = 0;
  };
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] == '.') continue;
    char path[sizeof dir + sizeof e->d_name + 16], stat[256], wchan[64];  // room for any task name
    std::snprintf(path, sizeof path, "%s/%s/stat", dir, e->d_name);
    first_line(path, stat, sizeof stat);
    std::snprintf(path, sizeof path, "%s/%s/wchan", dir, e->d_name);
    first_line(path, wchan, sizeof wchan);
    const char* close = strrchr(stat, ')');
    const char state = close && close[1] && close[2] ? close[2] : '?';
    const int n = std::snprintf(buf + used, cap - used, "%stid %s %c in %s", used ? "; " : "", e->d_name, state,
                                wchan[0] ? wchan : "?");
    if (n < 0 || static_cast<size_t>(n) >= cap - used) break;
    used += static_cast<size_t>(n);
  }
  closedir(d);
}

}  // namespace tl::os
