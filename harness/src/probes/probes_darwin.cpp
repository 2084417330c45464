// probes_darwin.cpp — Apple leak probes: Mach ports, task threads, fds, RSS.
// Compiled only on Apple platforms (harness/CMakeLists.txt).
//
// Invariants:
//   - Port names are counted per right type from mach_port_names; a leaked
//     thread-port send right usually adds user references to a name the task
//     already holds, not a new name, so the probe also sums mach_port_get_refs
//     over send and dead-name rights (mach_port_urefs).
//   - Ports are counted before task_threads is called, and every thread right
//     task_threads returns is deallocated, as are the arrays both calls
//     return: the probe leaks nothing it measures.
//   - Another process is sampled through task_for_pid, which needs the
//     debugging entitlement or root; without it the probe says so.
#include <libproc.h>
#include <mach/mach.h>
#include <sys/proc_info.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "probes/probes.h"

namespace threadlab {

std::string fd_kind(const std::string& t) {
  if (t == "vnode") return "file";
  if (t == "socket" || t == "pipe" || t == "kqueue") return t;
  return "other";
}

std::string item_family_for(const std::string& counter) {
  if (counter.rfind("fd_", 0) == 0) return "fds";
  if (counter.rfind("mach_port_", 0) == 0) return "ports";
  return "";
}

namespace {

bool sample_ports(task_t task, ProbeSample* out, std::string* err) {
  mach_port_name_array_t names = nullptr;
  mach_msg_type_number_t ncount = 0;
  mach_port_type_array_t types = nullptr;
  mach_msg_type_number_t tcount = 0;
  kern_return_t kr = mach_port_names(task, &names, &ncount, &types, &tcount);
  if (kr != KERN_SUCCESS) {
    *err = std::string("mach_port_names: ") + mach_error_string(kr);
    return false;
  }
  double recv = 0, send = 0, send_once = 0, port_set = 0, dead = 0, urefs = 0;
  auto& items = out->items["ports"];
  for (mach_msg_type_number_t i = 0; i < ncount; ++i) {
    mach_port_type_t ty = types[i];
    if (ty & MACH_PORT_TYPE_RECEIVE) ++recv;
    if (ty & MACH_PORT_TYPE_SEND) ++send;
    if (ty & MACH_PORT_TYPE_SEND_ONCE) ++send_once;
    if (ty & MACH_PORT_TYPE_PORT_SET) ++port_set;
    if (ty & MACH_PORT_TYPE_DEAD_NAME) ++dead;
    mach_port_urefs_t refs = 0, total = 0;
    if ((ty & MACH_PORT_TYPE_SEND) &&
        mach_port_get_refs(task, names[i], MACH_PORT_RIGHT_SEND, &refs) == KERN_SUCCESS)
      total += refs;
    if ((ty & MACH_PORT_TYPE_DEAD_NAME) &&
        mach_port_get_refs(task, names[i], MACH_PORT_RIGHT_DEAD_NAME, &refs) == KERN_SUCCESS)
      total += refs;
    urefs += total;
    items["port 0x" + std::to_string(names[i])] =
        "type 0x" + std::to_string(ty) + " urefs " + std::to_string(total);
  }
  vm_deallocate(mach_task_self(), reinterpret_cast<vm_address_t>(names), ncount * sizeof(*names));
  vm_deallocate(mach_task_self(), reinterpret_cast<vm_address_t>(types), tcount * sizeof(*types));
  out->counters.push_back({"mach_port_receive", recv, Unit::Count, true});
  out->counters.push_back({"mach_port_send", send, Unit::Count, true});
  out->counters.push_back({"mach_port_send_once", send_once, Unit::Count, true});
  out->counters.push_back({"mach_port_port_set", port_set, Unit::Count, true});
  out->counters.push_back({"mach_port_dead_name", dead, Unit::Count, true});
  out->counters.push_back({"mach_port_urefs", urefs, Unit::Count, true});
  return true;
}

bool sample_threads(task_t task, ProbeSample* out, std::string* err) {
  thread_act_array_t threads = nullptr;
  mach_msg_type_number_t n = 0;
  kern_return_t kr = task_threads(task, &threads, &n);
  if (kr != KERN_SUCCESS) {
    *err = std::string("task_threads: ") + mach_error_string(kr);
    return false;
  }
  for (mach_msg_type_number_t i = 0; i < n; ++i) mach_port_deallocate(mach_task_self(), threads[i]);
  vm_deallocate(mach_task_self(), reinterpret_cast<vm_address_t>(threads), n * sizeof(*threads));
  out->counters.push_back({"threads", static_cast<double>(n), Unit::Count, true});
  return true;
}

void sample_rss(task_t task, ProbeSample* out) {
  mach_task_basic_info_data_t info;
  mach_msg_type_number_t count = MACH_TASK_BASIC_INFO_COUNT;
  double rss = 0;
  if (task_info(task, MACH_TASK_BASIC_INFO, reinterpret_cast<task_info_t>(&info), &count) == KERN_SUCCESS)
    rss = static_cast<double>(info.resident_size);
  out->counters.push_back({"rss_bytes", rss, Unit::Bytes, false});
}

void sample_fds(int pid, ProbeSample* out) {
  const char* kinds[] = {"file", "socket", "pipe", "kqueue", "other"};
  std::vector<double> counts(5, 0);
  int bytes = proc_pidinfo(pid, PROC_PIDLISTFDS, 0, nullptr, 0);
  std::vector<proc_fdinfo> fds(bytes > 0 ? bytes / sizeof(proc_fdinfo) + 16 : 0);
  if (!fds.empty()) {
    bytes = proc_pidinfo(pid, PROC_PIDLISTFDS, 0, fds.data(), static_cast<int>(fds.size() * sizeof(proc_fdinfo)));
    fds.resize(bytes > 0 ? bytes / sizeof(proc_fdinfo) : 0);
  }
  auto& items = out->items["fds"];
  for (auto& f : fds) {
    std::string t = f.proc_fdtype == PROX_FDTYPE_VNODE    ? "vnode"
                    : f.proc_fdtype == PROX_FDTYPE_SOCKET ? "socket"
                    : f.proc_fdtype == PROX_FDTYPE_PIPE   ? "pipe"
                    : f.proc_fdtype == PROX_FDTYPE_KQUEUE ? "kqueue"
                                                          : "other";
    std::string kind = fd_kind(t);
    for (int k = 0; k < 5; ++k)
      if (kind == kinds[k]) counts[k] += 1;
    items["fd " + std::to_string(f.proc_fd)] = kind;
  }
  for (int k = 0; k < 5; ++k) out->counters.push_back({std::string("fd_") + kinds[k], counts[k], Unit::Count, true});
}

}  // namespace

bool probe_sample(int pid, ProbeSample* out, std::string* err) {
  out->counters.clear();
  out->items.clear();
  task_t task = mach_task_self();
  bool own = pid == 0 || pid == getpid();
  if (!own) {
    kern_return_t kr = task_for_pid(mach_task_self(), pid, &task);
    if (kr != KERN_SUCCESS) {
      *err = "task_for_pid(" + std::to_string(pid) + "): " + mach_error_string(kr) +
             " (sampling another process needs root or the debugging entitlement)";
      return false;
    }
  }
  bool ok = sample_ports(task, out, err) && sample_threads(task, out, err);
  if (ok) {
    sample_rss(task, out);
    sample_fds(own ? getpid() : pid, out);
  }
  if (!own) mach_port_deallocate(mach_task_self(), task);
  return ok;
}

}  // namespace threadlab
