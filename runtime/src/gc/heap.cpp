// heap.cpp — blocks, arenas, allocation buffers (see heap.h).
#include "heap.h"
#include "sanitizer_policy.h"
#include "lock_rank.h"

#include <cstring>

#include "../os.h"
#include "../record.h"
#include "../registry.h"
#include "threadlab/runtime.h"

#define TL_UNPOISON(p, n) TL_ASAN_UNPOISON(p, n)

namespace tl::gc {
namespace {
constexpr size_t kArenaBytes = 4u << 20;  // 64 blocks
constexpr unsigned kRefill = 16;          // cells moved to a buffer at once

Heap* g_heap = new Heap();

bool add_arena_locked(Heap& h) {
  if (h.arena_count == h.arena_cap) {
    size_t cap = h.arena_cap ? h.arena_cap * 2 : 64;
    auto* a = static_cast<Heap::Arena*>(os::map(cap * sizeof(Heap::Arena), os::Prot::ReadWrite));
    if (!a) return false;
    if (h.arenas) {
      std::memcpy(a, h.arenas, h.arena_count * sizeof(Heap::Arena));
      os::unmap(h.arenas, h.arena_cap * sizeof(Heap::Arena));
    }
    h.arenas = a;
    h.arena_cap = cap;
  }
  void* m = os::map_aligned(kArenaBytes, kBlockBytes, os::Prot::ReadWrite);
  if (!m || !h.arenas) return false;
  auto lo = reinterpret_cast<uintptr_t>(m);
  h.arenas[h.arena_count++] = {lo, lo + kArenaBytes, 0};
  h.heap_bytes += kArenaBytes;
  return true;
}

Block* new_block_locked(Heap& h, unsigned c) {
  Heap::Arena* a = h.arena_count ? &h.arenas[h.arena_count - 1] : nullptr;
  if (!a || a->used + kBlockBytes > a->hi - a->lo) {
    if (!add_arena_locked(h)) return nullptr;
    a = &h.arenas[h.arena_count - 1];
  }
  auto* b = reinterpret_cast<Block*>(a->lo + a->used);
  a->used += kBlockBytes;
  std::memset(b, 0, sizeof(Block));
  b->magic = kBlockMagic;
  b->size_class = c;
  b->cell_bytes = static_cast<uint32_t>(class_bytes(c));
  b->first_offset = static_cast<uint32_t>((sizeof(Block) + b->cell_bytes - 1) / b->cell_bytes * b->cell_bytes);
  b->cells = static_cast<uint32_t>((kBlockBytes - b->first_offset) / b->cell_bytes);
  // Thread every cell on the free list, last first so addresses ascend.
  char* base = reinterpret_cast<char*>(b) + b->first_offset;
  void* head = nullptr;
  for (uint32_t i = b->cells; i-- > 0;) {
    void* cell = base + size_t{i} * b->cell_bytes;
    *static_cast<void**>(cell) = head;
    head = cell;
  }
  b->free_list = head;
  b->free_count = b->cells;
  b->next = h.classes[c];
  h.classes[c] = b;
  return b;
}

Block* block_of(uintptr_t p) { return reinterpret_cast<Block*>(p & ~(uintptr_t)(kBlockBytes - 1)); }

// Move up to kRefill free cells of class c to r's buffer.
bool refill_locked(Heap& h, Record* r, unsigned c) {
  Block* b = h.classes[c];
  while (b && b->free_count == 0) b = b->next;
  if (!b && !(b = new_block_locked(h, c))) return false;
  void* list = r->alloc_cache[c];
  for (unsigned i = 0; i < kRefill && b->free_list; ++i) {
    void* cell = b->free_list;
    TL_UNPOISON(cell, sizeof(void*));
    b->free_list = *static_cast<void**>(cell);
    --b->free_count;
    *static_cast<void**>(cell) = list;
    list = cell;
  }
  r->alloc_cache[c] = list;
  return true;
}
}  // namespace

Heap& heap() { return *g_heap; }

unsigned size_class_for(size_t bytes) {
  unsigned c = 0;
  size_t s = kMinCell;
  while (s < bytes) {
    s <<= 1;
    ++c;
  }
  return c;
}

size_t class_bytes(unsigned c) { return kMinCell << c; }

void* find_object(uintptr_t p, Block** block_out, uint32_t* index_out) {
  Heap& h = heap();
  bool in = false;
  for (size_t i = 0; i < h.arena_count; ++i)
    if (p >= h.arenas[i].lo && p < h.arenas[i].lo + h.arenas[i].used) {
      in = true;
      break;
    }
  if (!in) return nullptr;
  Block* b = block_of(p);
  if (b->magic != kBlockMagic) return nullptr;
  uintptr_t first = reinterpret_cast<uintptr_t>(b) + b->first_offset;
  if (p < first) return nullptr;
  uint32_t idx = static_cast<uint32_t>((p - first) / b->cell_bytes);
  if (idx >= b->cells) return nullptr;
  // Allocating threads set alloc bits atomically without the heap lock.
  if (!((__atomic_load_n(&b->alloc_bits[idx / 64], __ATOMIC_RELAXED) >> (idx % 64)) & 1u)) return nullptr;
  if (block_out) *block_out = b;
  if (index_out) *index_out = idx;
  return reinterpret_cast<void*>(first + size_t{idx} * b->cell_bytes);
}

void* allocate(Record* r, size_t bytes) {
  if (bytes == 0) bytes = 1;
  if (bytes > kMaxObject) return nullptr;
  unsigned c = size_class_for(bytes);
  Heap& h = heap();
  void* cell = r->alloc_cache[c];
  if (!cell) {
    lock_ranked(&h.lock, Rank::Heap, "heap");
    bool ok = refill_locked(h, r, c);
    unlock_ranked(&h.lock, Rank::Heap);
    cell = r->alloc_cache[c];
    if (!ok || !cell) return nullptr;
  }
  TL_UNPOISON(cell, class_bytes(c));
  r->alloc_cache[c] = *static_cast<void**>(cell);
  Block* b = block_of(reinterpret_cast<uintptr_t>(cell));
  uint32_t idx = static_cast<uint32_t>((reinterpret_cast<uintptr_t>(cell) - reinterpret_cast<uintptr_t>(b) - b->first_offset) / b->cell_bytes);
  __atomic_fetch_or(&b->alloc_bits[idx / 64], uint64_t{1} << (idx % 64), __ATOMIC_RELAXED);
  std::memset(cell, 0, class_bytes(c));
  h.bytes_since_gc.fetch_add(class_bytes(c), std::memory_order_relaxed);
  return cell;
}

void drop_buffers_locked() {
  // Cells in buffers are free (alloc bit clear); the sweep rebuilds every
  // block's free list from the bits, so forgetting the buffers is enough.
  registry().for_each_locked([](Record* r) {
    for (auto& c : r->alloc_cache) c = nullptr;
  });
}

}  // namespace tl::gc
