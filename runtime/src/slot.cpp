// slot.cpp — chunks, the slot cache, and address-to-slot lookup.
#include "slot.h"
#include "fork.h"
#include "lock_rank.h"

#include <errno.h>
#include <pthread.h>

#include <atomic>
#include <new>

#include "blocking.h"
#include "ledger.h"
#include "os.h"

namespace tl {

struct Chunk {
  uintptr_t lo = 0, hi = 0;
  std::atomic<size_t> next_fresh{0};  // slots below this index have been handed out once
  size_t slots = 0;
  Chunk* next = nullptr;  // append-only list, never freed
};

namespace {
constexpr size_t kSlotsPerChunk = 256;

std::atomic<Chunk*> g_chunks{nullptr};
pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
Chunk* g_fresh_chunk = nullptr;  // chunk with never-used slots [g_mu]
Slot* g_cached = nullptr;        // committed spares [g_mu]
Slot* g_decommitted = nullptr;   // header only [g_mu]
size_t g_cached_count = 0;       // [g_mu]
size_t g_slot_bytes = size_t{1} << 20;
size_t g_cache_cap = 64;
size_t g_value_bytes = 256 * 1024;
size_t g_temp_bytes = 256 * 1024;

size_t record_offset() { return (sizeof(Slot) + 63) & ~size_t{63}; }
size_t header_bytes() {
  size_t ps = os::page_size();
  return (record_offset() + sizeof(Record) + ps - 1) & ~(ps - 1);
}

// Reserve a new chunk; caller holds g_mu.
Chunk* new_chunk() {
  size_t bytes = kSlotsPerChunk * g_slot_bytes;
  void* m = os::map_aligned(bytes, g_slot_bytes, os::Prot::None);
  if (!m) return nullptr;
  auto* c = new (std::nothrow) Chunk();
  if (!c) {
    os::unmap(m, bytes);
    return nullptr;
  }
  c->lo = reinterpret_cast<uintptr_t>(m);
  c->hi = c->lo + bytes;
  c->slots = kSlotsPerChunk;
  c->next = g_chunks.load(std::memory_order_relaxed);
  g_chunks.store(c, std::memory_order_release);
  return c;
}

// Fresh slot: make its header readable so it can sit on the free lists.
bool open_header(uintptr_t base, Chunk* c) {
  if (!os::protect(reinterpret_cast<void*>(base), header_bytes(), os::Prot::ReadWrite)) return false;
  Slot* s = reinterpret_cast<Slot*>(base);
  s->magic = 0;
  s->record = nullptr;
  s->chunk = c;
  s->next_free = nullptr;
  s->stack_lo = base + header_bytes() + os::page_size();
  s->stack_hi = base + g_slot_bytes;
  s->committed = false;
  return true;
}

// Decommitted -> usable: stack read-write, record and stacks built.
bool commit(Slot* s) {
  if (os::should_fail(TL_OS_MMAP)) return false;
  size_t stack = s->stack_hi - s->stack_lo;
  if (!os::protect(reinterpret_cast<void*>(s->stack_lo), stack, os::Prot::ReadWrite)) return false;
  auto* rmem = reinterpret_cast<char*>(s) + record_offset();
  Record* r = new (rmem) Record();
  r->slot = s;
  if (!record_map_stacks(r, g_value_bytes, g_temp_bytes)) {
    r->~Record();
    os::decommit(reinterpret_cast<void*>(s->stack_lo), stack);
    return false;
  }
  s->record = r;
  s->committed = true;
  s->magic = kSlotMagic;
  ledger().stacks_mapped.fetch_add(1, std::memory_order_relaxed);
  ledger().stack_bytes.fetch_add(stack, std::memory_order_relaxed);
  return true;
}

void decommit(Slot* s) {
  size_t stack = s->stack_hi - s->stack_lo;
  s->magic = 0;
  record_unmap_stacks(s->record);
  s->record->~Record();
  s->record = nullptr;
  s->committed = false;
  os::decommit(reinterpret_cast<void*>(s->stack_lo), stack);
  ledger().stacks_mapped.fetch_sub(1, std::memory_order_relaxed);
  ledger().stack_bytes.fetch_sub(stack, std::memory_order_relaxed);
}

void push_decommitted_locked(Slot* s) {
  s->next_free = g_decommitted;
  g_decommitted = s;
}
}  // namespace

void slots_configure(size_t slot_bytes, size_t cache_cap, size_t value_bytes, size_t temp_bytes) {
  g_slot_bytes = slot_bytes;
  g_cache_cap = cache_cap;
  g_value_bytes = value_bytes;
  g_temp_bytes = temp_bytes;
}

size_t slot_bytes() { return g_slot_bytes; }

pthread_mutex_t* slot_cache_mutex() { return &g_mu; }  // fork.cpp takes it around fork()

Slot* slot_acquire() {
  NoStopScope no_stop;  // never stopped holding g_mu
  lock_ranked(&g_mu, Rank::Leaf, "slot cache");
  if (Slot* s = g_cached) {
    g_cached = s->next_free;
    ledger().slots_cached.store(--g_cached_count, std::memory_order_relaxed);
    unlock_ranked(&g_mu, Rank::Leaf);
    s->next_free = nullptr;
    s->magic = kSlotMagic;
    record_reset(s->record);
    return s;
  }
  Slot* s = g_decommitted;
  if (s) {
    g_decommitted = s->next_free;
  } else {
    Chunk* c = g_fresh_chunk;
    if (!c || c->next_fresh == c->slots) {
      c = new_chunk();
      if (!c) {
        unlock_ranked(&g_mu, Rank::Leaf);
        errno = ENOMEM;
        return nullptr;
      }
      g_fresh_chunk = c;
    }
    uintptr_t base = c->lo + c->next_fresh * g_slot_bytes;
    if (!open_header(base, c)) {
      unlock_ranked(&g_mu, Rank::Leaf);
      errno = ENOMEM;
      return nullptr;
    }
    c->next_fresh.fetch_add(1, std::memory_order_release);
    s = reinterpret_cast<Slot*>(base);
  }
  unlock_ranked(&g_mu, Rank::Leaf);
  s->next_free = nullptr;
  if (!commit(s)) {
    lock_ranked(&g_mu, Rank::Leaf, "slot cache");
    push_decommitted_locked(s);
    unlock_ranked(&g_mu, Rank::Leaf);
    errno = ENOMEM;
    return nullptr;
  }
  return s;
}

void slot_release(Slot* s) {
  NoStopScope no_stop;
  lock_ranked(&g_mu, Rank::Leaf, "slot cache");
  if (g_cached_count < g_cache_cap) {
    s->magic = 0;  // not a live thread's slot while cached
    s->next_free = g_cached;
    g_cached = s;
    ledger().slots_cached.store(++g_cached_count, std::memory_order_relaxed);
    unlock_ranked(&g_mu, Rank::Leaf);
    return;
  }
  unlock_ranked(&g_mu, Rank::Leaf);
  decommit(s);
  lock_ranked(&g_mu, Rank::Leaf, "slot cache");
  push_decommitted_locked(s);
  unlock_ranked(&g_mu, Rank::Leaf);
}

void slots_trim() {
  NoStopScope no_stop;
  lock_ranked(&g_mu, Rank::Leaf, "slot cache");
  Slot* list = g_cached;
  g_cached = nullptr;
  g_cached_count = 0;
  ledger().slots_cached.store(0, std::memory_order_relaxed);
  unlock_ranked(&g_mu, Rank::Leaf);
  while (list) {
    Slot* next = list->next_free;
    decommit(list);
    lock_ranked(&g_mu, Rank::Leaf, "slot cache");
    push_decommitted_locked(list);
    unlock_ranked(&g_mu, Rank::Leaf);
    list = next;
  }
}

size_t slots_cached() { return ledger().slots_cached.load(std::memory_order_relaxed); }

Slot* slot_containing(uintptr_t addr) {
  // Async-signal-safe: atomic loads of the append-only chunk list, then a
  // read of a header page that is mapped for every slot ever handed out.
  for (Chunk* c = g_chunks.load(std::memory_order_acquire); c; c = c->next) {
    if (addr < c->lo || addr >= c->hi) continue;
    uintptr_t base = addr & ~(uintptr_t)(g_slot_bytes - 1);
    if ((base - c->lo) / g_slot_bytes >= c->next_fresh.load(std::memory_order_acquire)) return nullptr;
    auto* s = reinterpret_cast<Slot*>(base);
    return s->magic == kSlotMagic ? s : nullptr;
  }
  return nullptr;
}

}  // namespace tl
