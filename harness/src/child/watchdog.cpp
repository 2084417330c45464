// watchdog.cpp — see watchdog.h.
#include "child/watchdog.h"

#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <memory>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "child/channel.h"
#include "child/thread_dump.h"
#include "probes/wait_graph.h"

namespace threadlab {
namespace {

std::mutex g_mu;
std::condition_variable g_cv;
bool g_stopped = false;
std::thread g_thread;

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

void watchdog_start(int fire_after_ms, const tl_adapter* rt) {
  g_thread = std::thread([fire_after_ms, rt] {
    std::unique_lock<std::mutex> lock(g_mu);
    if (g_cv.wait_for(lock, std::chrono::milliseconds(fire_after_ms), [] { return g_stopped; })) return;
    lock.unlock();
    // Said without allocating: the dump below allocates and may block for
    // good on a lock a stopped thread holds (malloc's); the runner then
    // knows the watchdog fired and looks at the threads from outside.
    char line[64];
    int n = std::snprintf(line, sizeof line, "{\"event\":\"watchdog\",\"after_ms\":%d}\n", fire_after_ms);
    channel_emit_raw(line, static_cast<size_t>(n));
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
