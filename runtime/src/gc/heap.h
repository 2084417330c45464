// heap.h — the managed heap: 64 KiB blocks of equal-sized cells, nine size
// classes (16 .. 4096 bytes), per-thread allocation buffers.
//
// Invariants:
//   - A cell is allocated exactly when its alloc bit is set; cells on a
//     thread's allocation buffer or a block's free list have it clear, so a
//     conservative pointer to them keeps nothing alive.
//   - Allocation runs inside a no-interrupt window, so no thread is ever
//     stopped holding the heap lock or half-way through popping its buffer;
//     the collector (world stopped) may therefore empty every buffer.
//   - Only a MANAGED thread allocates (tl_gc_alloc refuses others): a
//     thread in FOREIGN or BLOCKED counts as stopped without a handshake,
//     and its allocation could run during a collection.
//   - Heap memory comes from mmap only, never malloc: the collector runs
//     with the world stopped and must not need the allocator's lock.
//   - Freed cells are filled with TL_GC_POISON (and ASan-poisoned in the
//     asan preset), so a use of a wrongly freed object is caught.
#pragma once
#include <pthread.h>

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace tl {
struct Record;
}

namespace tl::gc {

constexpr size_t kBlockBytes = 64 * 1024;
constexpr size_t kMinCell = 16;
constexpr size_t kMaxCells = kBlockBytes / kMinCell;
constexpr size_t kMaxObject = 4096;
constexpr uint64_t kBlockMagic = 0x4743426c6f636b21ull;

struct Block {
  uint64_t magic;
  unsigned size_class;
  uint32_t cell_bytes;
  uint32_t cells;
  uint32_t first_offset;
  uint32_t free_count;
  void* free_list;
  Block* next;  // in its size class
  uint64_t alloc_bits[kMaxCells / 64];
  uint64_t mark_bits[kMaxCells / 64];
};

struct Heap {
  pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
  Block* classes[9] = {};
  // Arenas: ranges the heap was carved from, for "is this a heap pointer?"
  struct Arena {
    uintptr_t lo, hi;
    size_t used;  // bytes handed out as blocks
  };
  Arena* arenas = nullptr;  // mmap'd array
  size_t arena_count = 0, arena_cap = 0;
  std::atomic<uint64_t> bytes_since_gc{0};  // read without the lock
  std::atomic<uint64_t> heap_bytes{0};
  uint64_t live_objects = 0, live_bytes = 0, freed_objects = 0, collections = 0, deferred = 0;
};

Heap& heap();
unsigned size_class_for(size_t bytes);
size_t class_bytes(unsigned c);

// The cell containing p if p points into an allocated cell, else nullptr.
// Needs the world stopped or the heap lock.
void* find_object(uintptr_t p, Block** block_out, uint32_t* index_out);

// Allocation for the calling thread (Managed, record r).
void* allocate(Record* r, size_t bytes);
// Empty every thread's allocation buffer (collector, world stopped).
void drop_buffers_locked();
// In a fork child (fork.cpp): no collection is claimed (the claimant may be
// a thread that did not survive).
void collect_after_fork();
// Every registered root slot (collect.cpp); the roots lock held.
void for_each_root_locked(void (*fn)(void** slot, void* ctx), void* ctx);

}  // namespace tl::gc
