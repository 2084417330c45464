// probes_linux.cpp — Linux leak probes, all from /proc/PID.
//
// Invariants:
//   - fds are classified by their /proc/PID/fd link (eventfd, signalfd,
//     timerfd, pidfd, socket, pipe, file, other) and also kept as a set of
//     "fd N" -> target, so growth names the new fds; the directory fd this
//     probe opens is excluded.
//   - threads = entries of /proc/PID/task; maps_count/maps_bytes from
//     /proc/PID/maps (maps_linux.h: the brk heap is not in the bytes,
//     malloc's arena heaps in neither, counted as arena_heaps);
//     rss_bytes from statm; sig_pending = signals pending on the process
//     (ShdPnd|SigPnd bits); sigq_user = SigQ (per user, so noise
//     from other processes: sampled, not judged).
//   - posix_timers = the process's POSIX timers from /proc/PID/timers (a
//     timer outlives the thread it was made for unless deleted), kept as
//     "timer ID" -> clock and notification, so growth names the new ones.
//     Where the kernel has no such file the counter is absent, not zero.
#include <dirent.h>
#include <unistd.h>

#include <bitset>
#include <cerrno>
#include <cstring>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <sstream>

#include "probes/maps_linux.h"
#include "probes/probes.h"

namespace threadlab {

std::string fd_kind(const std::string& t) {
  auto has = [&](const char* s) { return t.find(s) != std::string::npos; };
  if (has("[eventfd]")) return "eventfd";
  if (has("[signalfd]")) return "signalfd";
  if (has("[timerfd]")) return "timerfd";
  if (has("[pidfd]") || t.rfind("pidfd:", 0) == 0) return "pidfd";
  if (t.rfind("socket:", 0) == 0) return "socket";
  if (t.rfind("pipe:", 0) == 0) return "pipe";
  if (!t.empty() && t[0] == '/') return "file";
  return "other";
}

std::string item_family_for(const std::string& counter) {
  if (counter.rfind("fd_", 0) == 0) return "fds";
  if (counter.rfind("maps_", 0) == 0) return "maps";
  if (counter == "posix_timers") return "timers";
  return "";
}

namespace {
const char* kKinds[] = {"eventfd", "signalfd", "timerfd", "pidfd", "socket", "pipe", "file", "other"};

uint64_t hexmask(const std::string& s) {
  uint64_t v = 0;
  for (char c : s) {
    if (c == '\n' || c == ' ') break;
    v = v * 16 + (c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
  }
  return v;
}

// start_brk (field 47 of /proc/PID/stat), or 0 when unreadable. Fields are
// counted after the last ')', since the command name may hold spaces.
uint64_t start_brk_of(const std::string& root) {
  std::ifstream f(root + "/stat");
  std::string all((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  const auto close = all.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream rest(all.substr(close + 1));
  std::string field;
  for (int i = 3; i <= 47; ++i)
    if (!(rest >> field)) return 0;
  return std::strtoull(field.c_str(), nullptr, 10);
}
}  // namespace

bool probe_sample(int pid, ProbeSample* out, std::string* err) {
  const std::string root = pid ? "/proc/" + std::to_string(pid) : "/proc/self";
  out->counters.clear();
  out->items.clear();

  // fds
  std::map<std::string, double> by_kind;
  for (auto* k : kKinds) by_kind[k] = 0;
  DIR* d = opendir((root + "/fd").c_str());
  if (!d) {
    *err = root + "/fd: " + std::strerror(errno);
    return false;
  }
  const int self_fd = pid ? -1 : dirfd(d);
  auto& fds = out->items["fds"];
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] == '.') continue;
    int fd = std::atoi(e->d_name);
    if (fd == self_fd) continue;
    char buf[512];
    ssize_t n = readlink((root + "/fd/" + e->d_name).c_str(), buf, sizeof buf - 1);
    if (n < 0) continue;  // closed meanwhile
    std::string target(buf, n);
    std::string kind = fd_kind(target);
    by_kind[kind] += 1;
    fds["fd " + std::string(e->d_name)] = target + " (" + kind + ")";
  }
  closedir(d);
  for (auto* k : kKinds) out->counters.push_back({std::string("fd_") + k, by_kind[k], Unit::Count, true});

  // threads
  double tasks = 0;
  if (DIR* t = opendir((root + "/task").c_str())) {
    while (dirent* e = readdir(t))
      if (e->d_name[0] != '.') ++tasks;
    closedir(t);
  }
  out->counters.push_back({"threads", tasks, Unit::Count, true});

  // mappings
  std::ifstream maps(root + "/maps");
  if (!maps) {
    *err = root + "/maps: cannot read";
    return false;
  }
  const BrkHint brk = pid ? BrkHint{start_brk_of(root), false} : BrkHint{reinterpret_cast<uint64_t>(sbrk(0)), true};
  const MapsTally mt = tally_maps(maps, brk, &out->items["maps"]);
  if (!mt.ok) {
    *err = root + "/maps: a line is not 'lo-hi perms ...'";
    return false;
  }
  // Under a sanitizer the sanitizer's own shadow and per-thread mappings
  // grow with the threads a scenario made, so mappings are sampled and
  // shown but not judged there; fds, threads and the runtime's own ledger
  // still are.
#if defined(TL_UNDER_TSAN) || defined(TL_UNDER_ASAN)
  constexpr bool kJudgeMappings = false;
#else
  constexpr bool kJudgeMappings = true;
#endif
  out->counters.push_back({"maps_count", mt.count, Unit::Count, kJudgeMappings});
  out->counters.push_back({"maps_bytes", mt.bytes, Unit::Bytes, kJudgeMappings});
  // Bounded by glibc (8 arenas per CPU, each grown in heaps as it fills):
  // shown, not judged.
  out->counters.push_back({"arena_heaps", mt.arena_heaps, Unit::Count, false});

  // RSS
  double rss = 0;
  {
    std::ifstream statm(root + "/statm");
    uint64_t size = 0, resident = 0;
    if (statm >> size >> resident) rss = static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE));
  }
  out->counters.push_back({"rss_bytes", rss, Unit::Bytes, false});

  // queued / pending signals
  double pending = 0, sigq = 0;
  {
    std::ifstream status(root + "/status");
    uint64_t mask = 0;
    for (std::string line; std::getline(status, line);) {
      if (line.rfind("ShdPnd:", 0) == 0 || line.rfind("SigPnd:", 0) == 0)
        mask |= hexmask(line.substr(line.find_first_not_of(" \t", 7)));
      else if (line.rfind("SigQ:", 0) == 0)
        sigq = std::atof(line.c_str() + 5);
    }
    pending = static_cast<double>(std::bitset<64>(mask).count());
  }
  out->counters.push_back({"sig_pending", pending, Unit::Count, true});

  // POSIX timers: one "ID:" line opens each entry.
  if (std::ifstream timers(root + "/timers"); timers) {
    double n = 0;
    auto& items = out->items["timers"];
    std::string id;
    for (std::string line; std::getline(timers, line);) {
      if (line.rfind("ID:", 0) == 0) {
        ++n;
        id = "timer" + line.substr(3);
        items[id] = "";
      } else if (!id.empty()) {
        items[id] += (items[id].empty() ? "" : ", ") + line;
      }
    }
    out->counters.push_back({"posix_timers", n, Unit::Count, true});
  }
  out->counters.push_back({"sigq_user", sigq, Unit::Count, false});
  return true;
}

}  // namespace threadlab
