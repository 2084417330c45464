// collect.cpp — the conservative mark-sweep collector.
//
// Invariants:
//   - Runs with the world stopped and the heap lock held; allocates nothing
//     (the mark stack is mmap'd and grows by mmap).
//   - Roots, for every record that is not dead: its value stack up to
//     value_sp, its temp stack up to temp_sp, its control stack from the
//     saved stack pointer to the base (for a thread stopped on its
//     altstack: the altstack from the saved sp to its top and the control
//     stack from the interrupted sp, altstack.h), and its saved registers;
//     for the
//     collector itself, its own registers and stack; plus registered roots.
//   - Requests coalesce: a request is met by any collection that started
//     after it was made, so a thread that finds one running waits for it
//     (as BLOCKED, on a futex: a waiter holds no place in the stopper's
//     queue) and collects itself only if the one it waited for began
//     earlier. Thirty threads that cross the allocation threshold together
//     make one stop, not thirty back to back (which starved every thread
//     waiting to exit: gc-callback-storm at 64 threads made no progress).
//   - Scanning reads other threads' stacks while they are stopped: racy by
//     design and below ASan's redzones, so the scanning functions are built
//     without address and thread instrumentation (no_sanitize), not
//     suppressed after the fact.
#include <atomic>
#include <cstring>
#include <vector>

#include "../altstack.h"
#include "sanitizer_policy.h"
#include "lock_rank.h"
#include "../blocking.h"
#include "../current.h"
#include "../fork.h"
#include "../globals.h"
#include "../inject.h"
#include "../os.h"
#include "../record.h"
#include "../registry.h"
#include "../status.h"
#include "../world.h"
#include "barrier.h"
#include "heap.h"
#include "inhibit.h"

#define TL_POISON(p, n) TL_ASAN_POISON(p, n)

#define TL_NO_SANITIZE __attribute__((no_sanitize("address", "thread")))

namespace tl::gc {
namespace {

struct MarkStack {
  uintptr_t* items = nullptr;
  size_t size = 0, cap = 0;
  bool overflowed = false;

  TL_NO_SANITIZE void push(uintptr_t obj) {
    if (size == cap && !grow()) {
      overflowed = true;  // rescanned below; correctness kept, speed lost
      return;
    }
    items[size++] = obj;
  }
  bool grow() {
    size_t ncap = cap ? cap * 2 : 4096;
    auto* n = static_cast<uintptr_t*>(os::map(ncap * sizeof(uintptr_t), os::Prot::ReadWrite));
    if (!n) return false;
    if (items) {
      std::memcpy(n, items, size * sizeof(uintptr_t));
      os::unmap(items, cap * sizeof(uintptr_t));
    }
    items = n;
    cap = ncap;
    return true;
  }
};

MarkStack g_stack;
pthread_mutex_t g_roots_mu = PTHREAD_MUTEX_INITIALIZER;
std::vector<void**>* g_roots = new std::vector<void**>();

TL_NO_SANITIZE void consider(uintptr_t w) {
  Block* b;
  uint32_t idx;
  void* obj = find_object(w, &b, &idx);
  if (!obj) return;
  uint64_t bit = uint64_t{1} << (idx % 64);
  if (b->mark_bits[idx / 64] & bit) return;
  b->mark_bits[idx / 64] |= bit;
  g_stack.push(reinterpret_cast<uintptr_t>(obj));
}

TL_NO_SANITIZE void scan_range(uintptr_t lo, uintptr_t hi) {
  lo = (lo + sizeof(uintptr_t) - 1) & ~(uintptr_t)(sizeof(uintptr_t) - 1);
  for (uintptr_t p = lo; p + sizeof(uintptr_t) <= hi; p += sizeof(uintptr_t))
    consider(*reinterpret_cast<const uintptr_t*>(p));
}

TL_NO_SANITIZE void drain() {
  while (g_stack.size > 0) {
    uintptr_t obj = g_stack.items[--g_stack.size];
    Block* b = reinterpret_cast<Block*>(obj & ~(uintptr_t)(kBlockBytes - 1));
    scan_range(obj, obj + b->cell_bytes);
  }
}

// After a mark-stack overflow: rescan every marked object until stable.
TL_NO_SANITIZE void recover_overflow() {
  Heap& h = heap();
  while (g_stack.overflowed) {
    g_stack.overflowed = false;
    for (unsigned c = 0; c < 9; ++c)
      for (Block* b = h.classes[c]; b; b = b->next)
        for (uint32_t i = 0; i < b->cells; ++i)
          if ((b->mark_bits[i / 64] >> (i % 64)) & 1u) {
            uintptr_t obj = reinterpret_cast<uintptr_t>(b) + b->first_offset + size_t{i} * b->cell_bytes;
            scan_range(obj, obj + b->cell_bytes);
            drain();
          }
  }
}

TL_NO_SANITIZE void scan_record(Record* r, Record* self) {
  if (r->value.mapped()) scan_range(r->value.lo, reinterpret_cast<uintptr_t>(r->value_sp));
  if (r->temp.mapped()) scan_range(r->temp.lo, r->temp_sp);
  if (r == self) world::save_own_context(self);
  // DEFECT gc_skips_saved_registers: a pointer held only in a stopped
  // thread's registers is not seen.
  if (!TL_INJECT(gc_skips_saved_registers))
    for (unsigned i = 0; i < r->saved_reg_count && i < kMaxSavedRegs; ++i) consider(r->saved_regs[i]);
  uintptr_t sp = r->saved_sp.load(std::memory_order_acquire);
  if (r == self) altstack_note_sp(self, sp);  // collecting from a handler on an altstack
  // The control stack from the saved sp; for a thread stopped on its
  // altstack, the altstack from there and the interrupted control stack.
  StackRange ranges[2];
  const unsigned n = sp ? altstack_live_ranges(r, sp, ranges) : 0;
  for (unsigned i = 0; i < n; ++i) scan_range(ranges[i].lo, ranges[i].hi);
  drain();
}

void sweep() {
  Heap& h = heap();
  h.live_objects = h.live_bytes = 0;
  for (unsigned c = 0; c < 9; ++c) {
    for (Block* b = h.classes[c]; b; b = b->next) {
      char* base = reinterpret_cast<char*>(b) + b->first_offset;
      void* free_list = nullptr;
      uint32_t free_count = 0;
      for (uint32_t i = b->cells; i-- > 0;) {
        uint64_t bit = uint64_t{1} << (i % 64);
        char* cell = base + size_t{i} * b->cell_bytes;
        bool alloc = b->alloc_bits[i / 64] & bit;
        bool marked = b->mark_bits[i / 64] & bit;
        if (alloc && marked) {
          ++h.live_objects;
          h.live_bytes += b->cell_bytes;
          continue;
        }
        if (alloc) {
          b->alloc_bits[i / 64] &= ~bit;
          std::memset(cell, static_cast<int>(TL_GC_POISON), b->cell_bytes);
          ++h.freed_objects;
        }
        *reinterpret_cast<void**>(cell) = free_list;
        TL_POISON(cell + sizeof(void*), b->cell_bytes - sizeof(void*));
        free_list = cell;
        ++free_count;
      }
      std::memset(b->mark_bits, 0, sizeof b->mark_bits);
      b->free_list = free_list;
      b->free_count = free_count;
    }
  }
}

}  // namespace

namespace {
// Collection sequence numbers: `started` is taken inside the stop, `done`
// published before the resume; g_done_word is bumped with it for waiters.
std::atomic<uint64_t> g_started{0}, g_done{0};
uint32_t g_done_word = 0;  // futex; __atomic builtins
}  // namespace

void collect_after_fork() {
  // A number claimed by a thread that did not survive the fork would never
  // be published: every later collection would wait for it.
  g_started.store(g_done.load(std::memory_order_acquire), std::memory_order_release);
  __atomic_store_n(&g_done_word, 0u, __ATOMIC_RELEASE);
}

int collect_now() {
  Record* self = current_record();
  if (!self) return fail(TL_EUNKNOWN, "tl_gc_collect: the calling thread has no record");
  // A collection numbered `want` or later started after this request and
  // meets it. One thread at a time claims the next number; the others wait
  // for it as BLOCKED, outside the stopper's queue, and return once a
  // collection that meets their request is done.
  const uint64_t want = g_started.load(std::memory_order_acquire) + 1;
  uint64_t seq = 0;
  for (;;) {
    const uint32_t seen = __atomic_load_n(&g_done_word, __ATOMIC_ACQUIRE);
    const uint64_t done = g_done.load(std::memory_order_acquire);
    if (done >= want) return TL_OK;
    uint64_t started = g_started.load(std::memory_order_acquire);
    if (started == done) {
      if (g_started.compare_exchange_strong(started, started + 1, std::memory_order_acq_rel)) {
        seq = started + 1;
        break;
      }
      continue;
    }
    // The thread holding the world stopped cannot wait for a claimant (it
    // waits for the world): it collects unnumbered, nested in its stop.
    if (world::caller_is_stopper()) break;
    BlockedScope wait;
    os::futex_wait(&g_done_word, seen);
  }
  int rc = world::suspend_others();
  if (rc != TL_OK) {
    if (seq == 0) return rc;
    // Give the number back (nobody claims while started != done) and wake
    // the waiters: one of them claims it and tries again.
    g_started.store(seq - 1, std::memory_order_release);
    __atomic_fetch_add(&g_done_word, 1u, __ATOMIC_RELEASE);
    os::futex_wake(&g_done_word, 0x7fffffff);
    return rc;
  }
  Heap& h = heap();
  lock_ranked(&h.lock, Rank::Heap, "heap");
  lock_ranked(&g_roots_mu, Rank::Roots, "roots");
  drop_buffers_locked();
  registry().for_each_locked([&](Record* r) {
    if (r->current_state() == State::Dead) return;
    scan_record(r, self);
  });
  for (void** slot : *g_roots) consider(reinterpret_cast<uintptr_t>(*slot));
  barrier_scan(scan_range);  // the write-barrier region is scanned whole (gc/barrier.h)
  drain();
  recover_overflow();
  sweep();
  barrier_rearm();
  ++h.collections;
  h.bytes_since_gc.store(0, std::memory_order_relaxed);
  unlock_ranked(&g_roots_mu, Rank::Roots);
  unlock_ranked(&h.lock, Rank::Heap);
  if (seq != 0) {  // numbered: publish it for the waiters
    g_done.store(seq, std::memory_order_release);
    __atomic_fetch_add(&g_done_word, 1u, __ATOMIC_RELEASE);
    os::futex_wake(&g_done_word, 0x7fffffff);
  }
  world::resume_others();
  return TL_OK;
}

int add_root(void** slot) {
  NoStopScope no_stop;
  lock_ranked(&g_roots_mu, Rank::Roots, "roots");
  g_roots->push_back(slot);
  unlock_ranked(&g_roots_mu, Rank::Roots);
  return TL_OK;
}

int remove_root(void** slot) {
  NoStopScope no_stop;
  lock_ranked(&g_roots_mu, Rank::Roots, "roots");
  for (auto it = g_roots->begin(); it != g_roots->end(); ++it)
    if (*it == slot) {
      g_roots->erase(it);
      unlock_ranked(&g_roots_mu, Rank::Roots);
      return TL_OK;
    }
  unlock_ranked(&g_roots_mu, Rank::Roots);
  return fail(TL_EINVAL, "tl_gc_remove_root: slot %p was never added", static_cast<void*>(slot));
}

}  // namespace tl::gc

pthread_mutex_t* tl::roots_mutex() { return &gc::g_roots_mu; }  // fork.cpp takes it around fork()

// The registered roots, for the image writer (image.cpp); roots lock held.
void tl::gc::for_each_root_locked(void (*fn)(void** slot, void* ctx), void* ctx) {
  for (void** slot : *g_roots) fn(slot, ctx);
}

using namespace tl;

extern "C" void* tl_gc_alloc(size_t bytes) {
  Record* r = current_record();
  if (!r || !initialized()) {
    fail(TL_EUNKNOWN, "tl_gc_alloc: the calling thread has no record");
    return nullptr;
  }
  if (r->current_state() != State::Managed) {
    // FOREIGN and BLOCKED threads count as stopped without a handshake: an
    // allocation from one could run during a collection.
    fail(TL_ESTATE, "tl_gc_alloc: the calling thread is %s; allocate from managed code", state_name(r->current_state()));
    return nullptr;
  }
  if (bytes > gc::kMaxObject) {
    fail(TL_EINVAL, "tl_gc_alloc: %zu bytes is larger than the largest object (%zu)", bytes, gc::kMaxObject);
    return nullptr;
  }
  gc::Heap& h = gc::heap();
  // Collect now and then: once a quarter of the mapped heap (at least
  // 4 MiB) was allocated since the last collection.
  uint64_t since = h.bytes_since_gc.load(std::memory_order_relaxed);
  uint64_t mapped = h.heap_bytes.load(std::memory_order_relaxed);
  if (since > (4u << 20) && since * 4 > mapped) gc::request_collection();
  tl_no_interrupt_begin();
  void* p = gc::allocate(r, bytes);
  tl_no_interrupt_end();
  if (!p) fail(TL_ENOMEM, "tl_gc_alloc: no memory for %zu more bytes of heap", bytes);
  return p;
}

extern "C" int tl_gc_collect(void) {
  TL_REQUIRE_INIT();
  return gc::request_collection();
}

extern "C" int tl_gc_is_live(const void* p) {
  if (!initialized()) return 0;
  gc::Heap& h = gc::heap();
  NoStopScope no_stop;  // never stopped holding the heap lock
  lock_ranked(&h.lock, Rank::Heap, "heap");
  int live = gc::find_object(reinterpret_cast<uintptr_t>(p), nullptr, nullptr) != nullptr;
  unlock_ranked(&h.lock, Rank::Heap);
  return live;
}

extern "C" int tl_gc_add_root(void** slot) {
  TL_REQUIRE_INIT();
  if (!slot) return fail(TL_EINVAL, "tl_gc_add_root: slot is NULL");
  return gc::add_root(slot);
}

extern "C" int tl_gc_remove_root(void** slot) {
  TL_REQUIRE_INIT();
  return gc::remove_root(slot);
}

extern "C" int tl_gc_get_stats(tl_gc_stats* out) {
  TL_REQUIRE_INIT();
  if (!out) return fail(TL_EINVAL, "tl_gc_get_stats: out is NULL");
  gc::Heap& h = gc::heap();
  NoStopScope no_stop;  // never stopped holding the heap lock
  lock_ranked(&h.lock, Rank::Heap, "heap");
  out->collections = h.collections;
  out->deferred_requests = h.deferred;
  out->live_objects = h.live_objects;
  out->live_bytes = h.live_bytes;
  out->freed_objects = h.freed_objects;
  out->heap_bytes = h.heap_bytes.load();
  unlock_ranked(&h.lock, Rank::Heap);
  return TL_OK;
}
