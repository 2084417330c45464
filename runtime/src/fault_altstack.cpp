// fault_altstack.cpp — a signal alternate stack for every record, and the
// per-record hooks of fault.h.
//
// A fault handler must have a stack of its own: an overflow of the control
// stack leaves none below the sp, and the kernel then kills the thread
// instead of delivering the signal (Go #22930 and #43853 on threads whose
// altstack was missing or replaced).
//
// Invariants:
//   - The altstack a record runs with is at least kAltBytes and at least four
//     kernel signal frames (os::min_signal_stack): a fault frame, the
//     handler, a suspend signal stopping it, and the chained user handler.
//   - A thread that already has an altstack that large keeps it (alt_kept):
//     the runtime never frees, replaces or reuses it. A smaller one (or none)
//     is replaced by the runtime's for the record's life, and what was there
//     is put back exactly (base, size, flags) at detach.
//   - The runtime's altstack is unmapped only at detach, on the thread, after
//     the kernel confirms it is no longer installed; if the thread installed
//     another one meanwhile, that one stays.
//   - ledger().altstacks counts the runtime's mapped altstacks.
#include <errno.h>
#include <string.h>

#include "altstack.h"
#include "fault.h"
#include "inject.h"
#include "ledger.h"
#include "os.h"
#include "record.h"
#include "status.h"

namespace tl::fault {
namespace {

constexpr size_t kAltBytes = 64 * 1024;

struct Hooks {
  ThreadHook attach, detach;
};
Hooks g_hooks[kMaxHooks];
std::atomic<unsigned> g_hook_count{0};

size_t alt_bytes() {
  const size_t ps = os::page_size();
  size_t want = 4 * os::min_signal_stack();
  if (want < kAltBytes) want = kAltBytes;
  return (want + ps - 1) & ~(ps - 1);
}

}  // namespace

std::atomic<uint64_t> g_altstacks_kept{0};

bool altstacks_enabled() {
  // DEFECT no_sigaltstack: records run without an altstack of the runtime's
  // and the handler is installed without SA_ONSTACK, so a fault handler runs
  // on the stack that overflowed (and the kernel kills the thread instead).
  return !TL_INJECT(no_sigaltstack);
}

bool add_thread_hooks(ThreadHook attach, ThreadHook detach) {
  const unsigned n = g_hook_count.load(std::memory_order_relaxed);
  if (n >= kMaxHooks) return false;
  g_hooks[n] = {attach, detach};
  g_hook_count.store(n + 1, std::memory_order_release);
  return true;
}

void fault_record_reset(Record* r) {
  FaultState& f = r->fault;
  f.alt_ours = f.alt_kept = false;
  f.catch_top = nullptr;
  f.binding_depth = 0;
  f.recovering.store(Recovering::None, std::memory_order_relaxed);
  f.unwind_code = 0;
  f.unwind_from_handler = false;
  f.redeliver_suspend = false;
}

void forget_after_fork(Record* r) {
  FaultState& f = r->fault;
  if (f.alt_kept) g_altstacks_kept.fetch_sub(1, std::memory_order_relaxed);
  if (f.alt_map) {
    os::unmap(f.alt_map, f.alt_map_bytes);
    ledger().altstacks.fetch_sub(1, std::memory_order_relaxed);
    f.alt_map = nullptr;
    f.alt_map_bytes = 0;
  }
  fault_record_reset(r);
}

int thread_attach(Record* r) {
  FaultState& f = r->fault;
  fault_record_reset(r);
  stack_t cur;
  if (!os::altstack_get(&cur))
    return fail(TL_ENOTSUP, "fault: sigaltstack(NULL, &old) failed on thread %llu: %s",
                static_cast<unsigned long long>(r->id), strerror(errno));
  const size_t need = alt_bytes();
  const bool has_own = !(cur.ss_flags & SS_DISABLE) && cur.ss_sp && cur.ss_size >= need;
  // With altstacks off, or when adopted from a handler running on its
  // (small) altstack, which cannot be changed now, the thread keeps what it
  // has for this life: neither branch below runs.
  const bool enabled = altstacks_enabled();
  if (enabled && has_own) {
    f.alt_kept = true;
    g_altstacks_kept.fetch_add(1, std::memory_order_relaxed);
    altstack_set(r, reinterpret_cast<uintptr_t>(cur.ss_sp), cur.ss_size);
  } else if (enabled && !(cur.ss_flags & SS_ONSTACK)) {
    const size_t ps = os::page_size();
    if (!f.alt_map)
      if (int rc = prepare_altstack(r); rc != TL_OK) return rc;
    void* m = f.alt_map;
    char* base = static_cast<char*>(m) + ps;
    stack_t ss{};
    ss.ss_sp = base;
    ss.ss_size = need;
    ss.ss_flags = 0;
    if (!os::altstack_put(ss)) {
      const int e = errno;
      release_altstack(r);
      return fail(TL_ENOMEM, "fault: sigaltstack refused a %zu-byte altstack for thread %llu: %s", need,
                  static_cast<unsigned long long>(r->id), strerror(e));
    }
    f.alt_prev = cur;
    f.alt_ours = true;
    altstack_set(r, reinterpret_cast<uintptr_t>(base), need);
  }
  if (!f.alt_ours) release_altstack(r);  // prepared by tl_spawn, not needed
  const unsigned n = g_hook_count.load(std::memory_order_acquire);
  for (unsigned i = 0; i < n; ++i)
    if (g_hooks[i].attach) g_hooks[i].attach(r);
  return TL_OK;
}

void thread_detach(Record* r) {
  FaultState& f = r->fault;
  const unsigned n = g_hook_count.load(std::memory_order_acquire);
  for (unsigned i = n; i-- > 0;)
    if (g_hooks[i].detach) g_hooks[i].detach(r);
  if (f.alt_kept) {
    f.alt_kept = false;
    g_altstacks_kept.fetch_sub(1, std::memory_order_relaxed);
  }
  if (!f.alt_ours) return;
  char* base = static_cast<char*>(f.alt_map) + os::page_size();
  stack_t cur;
  bool ours_installed = os::altstack_get(&cur) && cur.ss_sp == base && !(cur.ss_flags & SS_DISABLE);
  if (ours_installed && (cur.ss_flags & SS_ONSTACK)) return;  // running on it: keep it (never freed while in use)
  if (ours_installed) {
    stack_t prev = f.alt_prev;
    prev.ss_flags &= ~SS_ONSTACK;  // a flag the kernel reports, never one it accepts
    if ((prev.ss_flags & SS_DISABLE) || !prev.ss_sp) {
      prev = stack_t{};
      prev.ss_flags = SS_DISABLE;
    }
    if (!os::altstack_put(prev)) {
      // The kernel refused the old one back: at least take ours away.
      stack_t off{};
      off.ss_flags = SS_DISABLE;
      if (!os::altstack_put(off)) return;  // still installed: leak it rather than free it in use
    }
  }
  altstack_discover(r);
  f.alt_ours = false;
  release_altstack(r);
}

int prepare_altstack(Record* r) {
  FaultState& f = r->fault;
  if (f.alt_map) return TL_OK;
  const size_t ps = os::page_size(), need = alt_bytes();
  void* m = os::map(need + ps, os::Prot::None);
  if (!m)
    return fail(TL_ENOMEM, "could not map a %zu-byte signal altstack for thread %llu: %s", need,
                static_cast<unsigned long long>(r->id), strerror(errno));
  // Guard page below: an overflow of the altstack faults instead of writing on.
  if (!os::protect(static_cast<char*>(m) + ps, need, os::Prot::ReadWrite)) {
    const int e = errno;
    os::unmap(m, need + ps);
    return fail(TL_ENOMEM, "could not make the signal altstack of thread %llu writable: %s",
                static_cast<unsigned long long>(r->id), strerror(e));
  }
  f.alt_map = m;
  f.alt_map_bytes = need + ps;
  ledger().altstacks.fetch_add(1, std::memory_order_relaxed);
  return TL_OK;
}

void release_altstack(Record* r) {
  FaultState& f = r->fault;
  if (!f.alt_map || f.alt_ours) return;  // installed: never freed while in use
  os::unmap(f.alt_map, f.alt_map_bytes);
  ledger().altstacks.fetch_sub(1, std::memory_order_relaxed);
  f.alt_map = nullptr;
  f.alt_map_bytes = 0;
}

}  // namespace tl::fault
