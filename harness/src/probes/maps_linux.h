// maps_linux.h — tally of /proc/PID/maps for the leak probe.
//
// Invariants:
//   - Every mapping is counted and listed (range -> "perms size path").
//   - The brk heap is listed but not added to the bytes: it follows malloc's
//     high-water mark and fragmentation, not the threads a scenario made.
//     The kernel labels it "[heap]"; qemu-user's emulated maps do not, and
//     there the heap is the unlabelled anonymous mapping that holds the
//     program break, so a caller that knows the break passes it.
#pragma once

#include <cstdint>
#include <istream>
#include <map>
#include <string>

namespace threadlab {

struct MapsTally {
  double count = 0;
  double bytes = 0;  // all mappings but the brk heap
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
