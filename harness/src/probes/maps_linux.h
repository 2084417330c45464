// maps_linux.h — tally of /proc/PID/maps for the leak probe.
//
// Invariants:
//   - Every mapping is counted and listed (range -> "perms size path").
//   - The brk heap is listed but not added to the bytes: it follows malloc's
//     high-water mark and fragmentation, not the threads a scenario made.
//     The kernel labels it "[heap]"; qemu-user's emulated maps do not, and
//     there the heap is the unlabelled anonymous mapping that holds the
//     program break, so a caller that knows the break passes it.
//   - glibc malloc's arena heaps are told apart and kept out of count and
//     bytes, as the brk heap is: a run of anonymous private mappings that
//     starts on a kArenaHeap boundary with a read-write part and exactly
//     fills it (the rest PROT_NONE). glibc makes an arena lazily the first
//     time threads contend in malloc, up to 8 per CPU, so at 64 threads new
//     arenas appear cycle after cycle — bounded, and not a thread's leak.
//     They are counted in `arena_heaps` and listed as "[malloc arena]".
//     A run that does not fit the shape exactly stays ordinary mappings.
#pragma once

#include <cstdint>
#include <istream>
#include <map>
#include <string>

namespace threadlab {

// glibc's HEAP_MAX_SIZE on LP64 (2 * DEFAULT_MMAP_THRESHOLD_MAX).
constexpr uint64_t kArenaHeap = uint64_t{64} << 20;

struct MapsTally {
  double count = 0;        // all mappings but malloc's arena heaps
  double bytes = 0;        // all mappings but the brk heap and arena heaps
  double arena_heaps = 0;  // glibc malloc arena heaps recognised
  bool ok = true;    // false when a line could not be parsed
};

// Where the heap is known: its first byte (start_brk of another process) or
// its end (this process's current break, sbrk(0)); addr 0 = unknown.
struct BrkHint {
  uint64_t addr = 0;
  bool is_end = false;
};

MapsTally tally_maps(std::istream& maps, BrkHint brk, std::map<std::string, std::string>* items);

}  // namespace threadlab
