// watchdog.cpp — see watchdog.h.
#include "child/watchdog.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <memory>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "child/altstack.h"
#include "child/channel.h"
#include "child/child.h"
#include "child/thread_dump.h"
#include "probes/wait_graph.h"

namespace threadlab {
namespace {

std::mutex g_mu;
std::condition_variable g_cv;
bool g_stopped = false;
std::thread g_thread;
std::atomic<uint64_t> g_cycles{0};

struct ListResult {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  int rc = 0;
  size_t count = 0;
  tl_adapter_thread threads[256];
};

nlohmann::json adapter_records(const tl_adapter* rt, std::string* note) {
  nlohmann::json records = nlohmann::json::object();
  if (!rt || !(rt->caps & TL_CAP_THREAD_LIST)) {
    *note += "adapter offers no thread list; ";
    return records;
  }
  // Shared with a helper that may stay blocked forever: never freed then.
  auto res = std::make_shared<ListResult>();
  std::thread([rt, res] {
    ensure_altstack();
    size_t count = 0;
    int rc = rt->thread_list(res->threads, 256, &count);
    std::lock_guard<std::mutex> lock(res->mu);
    res->rc = rc;
    res->count = count;
    res->done = true;
    res->cv.notify_all();
  }).detach();
  std::unique_lock<std::mutex> lock(res->mu);
  if (!res->cv.wait_for(lock, std::chrono::milliseconds(500), [&] { return res->done; })) {
    *note += "adapter thread list did not answer within 500 ms (registry lock held by a stuck thread?); ";
    return records;
  }
  if (res->rc != TL_ADAPTER_OK) {
    *note += fmt::format("adapter thread list failed ({}); ", res->rc);
    return records;
  }
  for (size_t i = 0; i < res->count && i < 256; ++i) {
    auto& t = res->threads[i];
    records[std::to_string(t.kernel_tid)] = {
        {"id", t.id}, {"state", t.state}, {"name", t.name}, {"waiting_on", t.waiting_on}};
  }
  return records;
}

nlohmann::json wait_cycle(const tl_adapter* rt, std::string* note) {
  if (!rt || !(rt->caps & TL_CAP_LOCKS)) return nullptr;
  tl_adapter_wait_edge buf[256];
  size_t count = 0;
  if (rt->wait_edges(buf, 256, &count) != TL_ADAPTER_OK) {
    *note += "adapter wait-for graph unavailable; ";
    return nullptr;
  }
  std::vector<tl_adapter_wait_edge> edges(buf, buf + std::min<size_t>(count, 256));
  auto cycle = find_wait_cycle(edges);
  if (cycle.empty()) return nullptr;
  nlohmann::json out = nlohmann::json::array();
  for (auto& e : cycle)
    out.push_back({{"waiter", e.waiter}, {"lock", e.lock_name}, {"owner", e.owner}});
  return out;
}

}  // namespace

nlohmann::json collect_dump(const tl_adapter* rt) {
  std::string note;
  nlohmann::json records = adapter_records(rt, &note);
  nlohmann::json cycle = wait_cycle(rt, &note);
  std::string dump_note;
  auto threads = dump_all_threads(1500, &dump_note);
  note += dump_note;
  nlohmann::json out = {{"event", "dump"}, {"threads", nlohmann::json::array()}, {"cycle", cycle}, {"note", note}};
  for (auto& t : threads) {
    auto rec = records.find(std::to_string(t.tid));
    out["threads"].push_back(dump_thread_json(t, rec == records.end() ? nlohmann::json(nullptr) : *rec));
  }
  return out;
}

nlohmann::json dump_thread_json(const ThreadSnapshot& t, const nlohmann::json& record) {
  return {{"tid", t.tid},
          {"name", t.name},
          {"kernel_state", t.kernel_state},
          {"waiting_on", t.waiting_on},
          {"answered", t.answered},
          {"record", record},
          {"backtrace", t.backtrace}};
}

WatchdogPlan watchdog_plan(double timeout_s, double stall_s) {
  WatchdogPlan p;
  p.time_up_ms = watchdog_fire_ms(timeout_s);
  p.stall_ms = stall_s > 0 && stall_s < timeout_s ? watchdog_fire_ms(stall_s) : p.time_up_ms;
  // A quarter of the stall allowance, 0.5 to 10 s: a heartbeat that slow at
  // the end is a stop, one faster is a run that was still going.
  p.recent_ms = static_cast<int>(std::clamp(p.stall_ms / 4, 500, 10000));
  return p;
}

void watchdog_cycle_done() { g_cycles.fetch_add(1, std::memory_order_relaxed); }

void watchdog_start(const WatchdogPlan& plan, const tl_adapter* rt, const Context* heartbeat) {
  g_thread = std::thread([plan, rt, heartbeat] {
    ensure_altstack();  // a fault here still gets its crash report (altstack.h)
    using Clock = std::chrono::steady_clock;
    const auto t0 = Clock::now();
    auto ms_since = [](Clock::time_point t) {
      return static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count());
    };
    auto beats = [heartbeat] {
      return (heartbeat ? heartbeat->progress_count() : 0) + g_cycles.load(std::memory_order_relaxed);
    };
    const auto tick = std::chrono::milliseconds(std::clamp(plan.recent_ms / 10, 20, 250));
    uint64_t last = beats();
    auto last_moved = t0;
    bool time_up = false;
    std::unique_lock<std::mutex> lock(g_mu);
    for (;;) {
      if (g_cv.wait_for(lock, tick, [] { return g_stopped; })) return;
      const uint64_t now_beats = beats();
      if (now_beats != last) last = now_beats, last_moved = Clock::now();
      if (ms_since(last_moved) >= plan.stall_ms) break;
      if (ms_since(t0) >= plan.time_up_ms) {
        time_up = true;
        break;
      }
    }
    lock.unlock();
    const int stalled = ms_since(last_moved);
    const bool moving = time_up && stalled < plan.recent_ms;
    // Said without allocating: the dump below allocates and may block for
    // good on a lock a stopped thread holds (malloc's); the runner then
    // knows the watchdog fired and looks at the threads from outside.
    char line[256];
    int n = std::snprintf(line, sizeof line,
                          "{\"event\":\"%s\",\"after_ms\":%d,\"stalled_ms\":%d,\"recent_ms\":%d,"
                          "\"cycles\":%llu,\"operations\":%llu}\n",
                          moving ? "timeout" : "watchdog", ms_since(t0), stalled, plan.recent_ms,
                          static_cast<unsigned long long>(g_cycles.load()),
                          static_cast<unsigned long long>(heartbeat ? heartbeat->progress_count() : 0));
    channel_emit_raw(line, static_cast<size_t>(std::min<int>(n, sizeof line - 1)));
    channel_emit(collect_dump(rt));
    // No fflush: a stuck thread may hold a stdio lock.
    _exit(kWatchdogExit);
  });
}

void watchdog_stop() {
  {
    std::lock_guard<std::mutex> lock(g_mu);
    g_stopped = true;
  }
  g_cv.notify_all();
  if (g_thread.joinable()) g_thread.join();
}

}  // namespace threadlab
