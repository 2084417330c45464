// maps_linux.cpp — see maps_linux.h.
#include "probes/maps_linux.h"

#include <cerrno>
#include <cstdlib>
#include <sstream>

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

MapsTally tally_maps(std::istream& maps, BrkHint brk, std::map<std::string, std::string>* items) {
  MapsTally t;
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
    ++t.count;
    const bool holds_brk = brk.addr != 0 && (brk.is_end ? lo < brk.addr && brk.addr <= hi : lo <= brk.addr && brk.addr < hi);
    const bool heap = path == "[heap]" || (path.empty() && holds_brk);
    if (!heap) t.bytes += static_cast<double>(hi - lo);
    if (items)
      (*items)[range] = perms + " " + std::to_string((hi - lo) / 1024) + " KiB " +
                        (heap && path.empty() ? "[heap, unlabelled]" : path.empty() ? "[anon]" : path);
  }
  return t;
}

}  // namespace threadlab
