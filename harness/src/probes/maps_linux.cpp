// maps_linux.cpp — see maps_linux.h.
#include "probes/maps_linux.h"

#include <cerrno>
#include <cstdlib>
#include <sstream>
#include <vector>

namespace threadlab {

namespace {
bool parse_hex(const std::string& s, uint64_t* v) {
  if (s.empty()) return false;
  char* end = nullptr;
  errno = 0;
  *v = std::strtoull(s.c_str(), &end, 16);
  return errno == 0 && end && *end == '\0';
}
}  // namespace

namespace {
struct Mapping {
  uint64_t lo, hi;
  std::string range, perms, path;
  bool heap;
};

bool anon_private(const Mapping& m) { return m.path.empty() && !m.heap && m.perms.size() == 4 && m.perms[3] == 'p'; }

// Length of the arena heap that starts at maps[i], or 0 when none does.
size_t arena_run(const std::vector<Mapping>& maps, size_t i) {
  const Mapping& m = maps[i];
  if (m.lo % kArenaHeap != 0 || !anon_private(m) || m.perms.compare(0, 2, "rw") != 0) return 0;
  const uint64_t end = m.lo + kArenaHeap;
  uint64_t at = m.hi;
  size_t n = 1;
  while (at < end) {
    if (i + n >= maps.size()) return 0;
    const Mapping& t = maps[i + n];
    if (t.lo != at || !anon_private(t) || t.perms.compare(0, 3, "---") != 0) return 0;
    at = t.hi;
    ++n;
  }
  return at == end ? n : 0;
}
}  // namespace

MapsTally tally_maps(std::istream& maps, BrkHint brk, std::map<std::string, std::string>* items) {
  MapsTally t;
  std::vector<Mapping> all;
  for (std::string line; std::getline(maps, line);) {
    if (line.empty()) continue;
    std::istringstream ls(line);
    std::string range, perms, off, dev, inode, path;
    ls >> range >> perms >> off >> dev >> inode;
    std::getline(ls, path);
    const auto first = path.find_first_not_of(' ');
    path.erase(0, first == std::string::npos ? path.size() : first);
    const auto dash = range.find('-');
    uint64_t lo = 0, hi = 0;
    if (dash == std::string::npos || !parse_hex(range.substr(0, dash), &lo) ||
        !parse_hex(range.substr(dash + 1), &hi) || hi < lo) {
      t.ok = false;
      continue;
    }
    const bool holds_brk = brk.addr != 0 && (brk.is_end ? lo < brk.addr && brk.addr <= hi : lo <= brk.addr && brk.addr < hi);
    const bool heap = path == "[heap]" || (path.empty() && holds_brk);
    all.push_back({lo, hi, range, perms, path, heap});
  }
  for (size_t i = 0; i < all.size();) {
    if (const size_t n = arena_run(all, i)) {
      ++t.arena_heaps;
      for (size_t k = i; k < i + n; ++k)
        if (items)
          (*items)[all[k].range] =
              all[k].perms + " " + std::to_string((all[k].hi - all[k].lo) / 1024) + " KiB [malloc arena]";
      i += n;
      continue;
    }
    const Mapping& m = all[i++];
    ++t.count;
    if (!m.heap) t.bytes += static_cast<double>(m.hi - m.lo);
    if (items)
      (*items)[m.range] = m.perms + " " + std::to_string((m.hi - m.lo) / 1024) + " KiB " +
                          (m.heap && m.path.empty() ? "[heap, unlabelled]" : m.path.empty() ? "[anon]" : m.path);
  }
  return t;
}

}  // namespace threadlab
