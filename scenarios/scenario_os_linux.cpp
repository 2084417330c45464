// scenario_os_linux.cpp — Linux: a per-thread handle is an eventfd.
#include <sys/syscall.h>
#include <unistd.h>
#include <malloc.h>
#include <sys/eventfd.h>
#include <pthread.h>

#include <dirent.h>

#include <cstdio>
#include <string>
#include <cstdlib>

#include "scenario_os.h"

namespace threadlab::scn {
int open_thread_handle() { return eventfd(0, EFD_CLOEXEC); }
void share_one_malloc_lock() { mallopt(M_ARENA_MAX, 1); }
long current_tid() { return static_cast<long>(syscall(SYS_gettid)); }

void send_to_tid(int pid, long tid, int sig) { syscall(SYS_tgkill, pid, static_cast<int>(tid), sig); }

bool start_argument_on_stack() {
#if defined(TL_UNDER_ASAN) || defined(TL_UNDER_TSAN)
  // The sanitizers' pthread_create hands the C library their own start
  // record: our argument lives in AddressSanitizer's thread object (not
  // scanned: the object was freed) or in ThreadSanitizer's start frame, not
  // in the thread's descriptor.
  return false;
#elif defined(__GLIBC__)
  return true;  // struct pthread (with its `arg`) sits at the top of the stack pthread_getattr_np reports
#else
  return false;  // other C libraries: not known
#endif
}

Access region_access(uintptr_t lo, uintptr_t hi) {
  if (lo >= hi) return Access::Mixed;
  FILE* f = std::fopen("/proc/self/maps", "re");
  if (!f) return Access::Unknown;
  // Walk the mappings in address order over [lo, hi): any gap is unmapped.
  uintptr_t covered = lo;
  bool all_rw = true, all_none = true;
  char line[512];
  while (covered < hi && std::fgets(line, sizeof line, f)) {
    char* end = nullptr;
    const uintptr_t a = std::strtoull(line, &end, 16);
    if (!end || *end != '-') continue;
    const uintptr_t b = std::strtoull(end + 1, &end, 16);
    if (b <= covered || a >= hi) continue;
    if (a > covered) {  // a hole: not mapped
      all_rw = all_none = false;
      break;
    }
    const char* perms = end + 1;
    const bool rw = perms[0] == 'r' && perms[1] == 'w';
    const bool none = perms[0] == '-' && perms[1] == '-' && perms[2] == '-';
    all_rw = all_rw && rw;
    all_none = all_none && none;
    covered = b;
  }
  std::fclose(f);
  if (covered < hi) return Access::Mixed;
  return all_rw ? Access::ReadWrite : all_none ? Access::None : Access::Mixed;
}

bool own_stack_bounds(uintptr_t* lo, uintptr_t* hi) {
  pthread_attr_t attr;
  if (pthread_getattr_np(pthread_self(), &attr) != 0) return false;
  void* addr = nullptr;
  size_t size = 0;
  const bool ok = pthread_attr_getstack(&attr, &addr, &size) == 0;
  pthread_attr_destroy(&attr);
  if (!ok) return false;
  *lo = reinterpret_cast<uintptr_t>(addr);
  *hi = *lo + size;
  return true;
}

std::string describe_threads(int pid) {
  std::string out;
  const std::string task = "/proc/" + std::to_string(pid) + "/task";
  DIR* d = opendir(task.c_str());
  if (!d) return out;
  auto read_line = [](const std::string& path) {
    std::string s;
    if (FILE* f = std::fopen(path.c_str(), "re")) {
      char buf[256];
      if (std::fgets(buf, sizeof buf, f)) s = buf;
      std::fclose(f);
    }
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
  };
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] == '.') continue;
    const std::string dir = task + "/" + e->d_name;
    const std::string stat = read_line(dir + "/stat");
    const size_t close = stat.rfind(')');
    const char state = close != std::string::npos && close + 2 < stat.size() ? stat[close + 2] : '?';
    out += "  tid " + std::string(e->d_name) + " '" + read_line(dir + "/comm") + "' state " + state + ", in " +
           read_line(dir + "/wchan") + ", syscall " + read_line(dir + "/syscall").substr(0, 40) + "\n";
  }
  closedir(d);
  return out;
}

}  // namespace threadlab::scn
