// execute.cpp — exec_init and execute: the adapter's init once per process,
// the baseline it is measured against, and the check after each program.
//
// Invariants:
//   - exec_init() initialises the adapter exactly once per process (later
//     calls with the same adapter return its first answer) and then takes
//     the baseline: threads and open fds, after one plain thread and one
//     adapter thread were made and joined (what a first thread brings
//     along for good — a sanitizer's background thread, lazily made
//     helpers — belongs to the baseline).
//   - After execute()'s teardown, when every thread the program made is
//     joined, the process must be back at the baseline. The runtime's caches
//     are given back first (trim), and the kernel is given up to
//     kSettleMs to reap threads that were joined (a joined thread can still
//     be listed for a moment); what remains then is an "invariant" finding
//     naming it — not "leak", which the project keeps for slopes.
#include <time.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>

#include "exec.h"

namespace threadlab::fuzz {

namespace {
constexpr int kSettleMs = 500;
std::mutex g_init_mu;
const tl_adapter* g_inited = nullptr;
std::string g_init_answer;
detail::Baseline g_base;
void noop(void*) {}

// What the first thread ever made brings with it (a sanitizer's background
// thread, the runtime's lazily made helpers and fds) is part of the
// baseline, not of the first program.
void warm_up(const tl_adapter* a) {
  std::thread([] {}).join();
  tl_adapter_thread_id id = 0;
  if ((a->caps & TL_CAP_SPAWN) && a->spawn("warm-up", noop, nullptr, &id) == TL_ADAPTER_OK) a->join(id);
  if (a->trim) a->trim();
}
}  // namespace

namespace detail {
Baseline settled_baseline() {
  // A thread joined just now can stay listed for a moment (long enough to
  // matter under qemu-user): wait until the count holds still for 10 ms.
  Baseline base = take_baseline();
  for (int i = 0, still = 0; i < 250 && still < 5; ++i) {
    const timespec ts{0, 2000000};
    nanosleep(&ts, nullptr);
    Baseline b = take_baseline();
    still = b.threads == base.threads ? still + 1 : 0;
    base = std::move(b);
  }
  return base;
}
}  // namespace detail

std::string exec_init(const tl_adapter* a) {
  std::lock_guard<std::mutex> g(g_init_mu);
  if (g_inited) return g_inited == a ? g_init_answer : "exec_init: another adapter was initialised first";
  g_inited = a;
  if (a->init() != TL_ADAPTER_OK) {
    const char* e = a->last_error ? a->last_error() : nullptr;
    g_init_answer = std::string("adapter ") + a->name + ": init failed: " + (e && *e ? e : "(no message)");
    return g_init_answer;
  }
  warm_up(a);
  g_base = detail::settled_baseline();
  return g_init_answer;
}

void exec_rebaseline() {
  std::lock_guard<std::mutex> g(g_init_mu);
  if (g_inited && g_init_answer.empty()) g_base = detail::take_baseline();  // per input: no settling wait
}

ExecResult execute(const tl_adapter* a, const Program& p, const ExecOptions& o) {
  try {
    const std::string why = exec_init(a);
    if (!why.empty()) {
      ExecResult r;
      r.findings.push_back({"error", 0, why});
      return r;
    }
    ExecResult r = detail::execute_in(a, p, o, false);
    if (a->trim) a->trim();
    std::string diff;
    for (int ms = 0; ms <= kSettleMs; ms += 2) {
      diff = detail::baseline_diff(g_base, detail::take_baseline());
      if (diff.empty()) break;
      const timespec ts{0, 2000000};
      nanosleep(&ts, nullptr);
    }
    if (!diff.empty()) {
      r.findings.push_back({"invariant", p.ops.size(), "after the teardown: " + diff});
      if (o.abort_on_finding) {
        std::fprintf(stderr, "threadlab fuzz: invariant after the teardown: %s\n", diff.c_str());
        std::abort();
      }
    }
    return r;
  } catch (const std::exception& e) {
    ExecResult r;
    r.findings.push_back({"error", 0, std::string("interpreter: ") + e.what()});
    return r;
  }
}

}  // namespace threadlab::fuzz
