// thread_dump_darwin.cpp — hang dumps on Apple: every thread of the task is
// listed (task_threads, each right deallocated) with its run state; native
// backtraces of other threads are not captured on this platform yet, and
// the dump says so rather than pretending.
#include <mach/mach.h>

#include <fmt/format.h>

#include "child/backtrace_capture.h"
#include "child/thread_dump.h"

namespace threadlab {

void thread_dump_install() {}

std::vector<std::string> format_frames(const Frames& f, bool skip_to_signal_frame) {
  std::vector<std::string> out;
  int start = skip_to_signal_frame && f.signal_frame >= 0 ? f.signal_frame + 1 : 0;
  for (int i = start; i < f.n; ++i) out.push_back(fmt::format("#{} {:#x} {}+{:#x}", i - start, f.ip[i], f.name[i], f.off[i]));
  return out;
}

std::vector<ThreadSnapshot> dump_all_threads(int, std::string* note) {
  std::vector<ThreadSnapshot> out;
  thread_act_array_t threads = nullptr;
  mach_msg_type_number_t n = 0;
  if (task_threads(mach_task_self(), &threads, &n) != KERN_SUCCESS) {
    *note = "task_threads failed";
    return out;
  }
  for (mach_msg_type_number_t i = 0; i < n; ++i) {
    ThreadSnapshot t;
    thread_identifier_info_data_t id;
    mach_msg_type_number_t count = THREAD_IDENTIFIER_INFO_COUNT;
    if (thread_info(threads[i], THREAD_IDENTIFIER_INFO, reinterpret_cast<thread_info_t>(&id), &count) == KERN_SUCCESS)
      t.tid = static_cast<int64_t>(id.thread_id);
    thread_basic_info_data_t basic;
    count = THREAD_BASIC_INFO_COUNT;
    if (thread_info(threads[i], THREAD_BASIC_INFO, reinterpret_cast<thread_info_t>(&basic), &count) == KERN_SUCCESS)
      t.kernel_state = fmt::format("run_state {}", basic.run_state);
    t.backtrace.push_back("(backtraces of other threads are not captured on this platform yet)");
    out.push_back(t);
    mach_port_deallocate(mach_task_self(), threads[i]);
  }
  vm_deallocate(mach_task_self(), reinterpret_cast<vm_address_t>(threads), n * sizeof(*threads));
  *note = "no native backtraces on this platform yet";
  return out;
}

}  // namespace threadlab
