// altstack_posix.cpp — per-thread alternate signal stacks (see altstack.h).
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>

#include <threadlab/scenario.h>

#include "child/altstack.h"

namespace threadlab {
namespace {

// Room for the crash handler's backtrace capture (libunwind) and formatting.
constexpr size_t kAltstackSize = 64 * 1024;

pthread_key_t g_key;
pthread_once_t g_once = PTHREAD_ONCE_INIT;

size_t page_size() { return static_cast<size_t>(sysconf(_SC_PAGESIZE)); }

// Thread exit: disable the altstack if it is still ours, then unmap it.
void release(void* base) {
  stack_t cur{};
  if (sigaltstack(nullptr, &cur) == 0 && !(cur.ss_flags & SS_DISABLE) &&
      static_cast<char*>(cur.ss_sp) == static_cast<char*>(base) + page_size()) {
    stack_t off{};
    off.ss_flags = SS_DISABLE;
    sigaltstack(&off, nullptr);
  }
  munmap(base, page_size() + kAltstackSize);
}

void make_key() { pthread_key_create(&g_key, release); }

}  // namespace

bool ensure_altstack() {
  stack_t cur{};
  if (sigaltstack(nullptr, &cur) == 0 && !(cur.ss_flags & SS_DISABLE)) return true;  // has one already
  pthread_once(&g_once, make_key);
  const size_t guard = page_size();
  void* base = mmap(nullptr, guard + kAltstackSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (base == MAP_FAILED) return false;
  mprotect(base, guard, PROT_NONE);  // an overflowing handler faults instead of writing below
  stack_t ss{};
  ss.ss_sp = static_cast<char*>(base) + guard;
  ss.ss_size = kAltstackSize;
  if (sigaltstack(&ss, nullptr) != 0) {
    munmap(base, guard + kAltstackSize);
    return false;
  }
  pthread_setspecific(g_key, base);
  return true;
}

void thread_started() { ensure_altstack(); }

}  // namespace threadlab
