// crowd.h — threads held in every state a runtime distinguishes, each
// counting the steps it takes in managed code, for scenarios that stop,
// collect, interrupt or kill around them.
//
// Kinds: spinning in managed code with no safepoint poll (only a signal can
// stop it), spinning with polls, blocked in read() inside a blocking region,
// looping in and out of a foreign region, churning (spawning and joining
// short threads: creating and exiting), adopting (fresh foreign threads that
// call back once and exit), allocating managed objects in a tight loop (so
// a stop often lands inside the runtime's allocator), calling malloc and
// free in a tight loop from managed code (so a stop often lands inside
// malloc, holding its lock), holding no-interrupt windows of about a
// millisecond, longer than a hybrid grace period (so a stop is asked, by
// signal under either policy, while the thread is inside one).
//
// Invariants:
//   - A member's `progress` moves only in managed code: after a step in a
//     child it spawned (churn), or a callback (adopting), never in foreign
//     or blocked code. So no member may move while the world is stopped.
//   - Nothing a driver calls while the world is stopped allocates (poke,
//     snapshot with a sized vector).
//   - Blocked members each read their own pipe: one poke, one step each.
//   - A window member's `in_window` is set only inside its no-interrupt
//     window, so with the world stopped it must read false: the stop is
//     deferred to the window's end.
//   - A crowd is heap-allocated; finish() joins every thread it started,
//     unless a deadlock was found: then it is abandoned whole (its threads
//     may never return) and the process reports and exits.
#pragma once

#include <pthread.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include <threadlab/scenario.h>

namespace threadlab::scn {

enum class Kind { Spin, Poll, Blocked, Foreign, Churn, Adopting, Alloc, Malloc, Window };
const char* kind_name(Kind k);

struct Member {
  Kind kind = Kind::Spin;
  std::atomic<uint64_t> progress{0};
  std::atomic<bool> in_window{false};  // window members
  tl_adapter_thread_id id = 0;  // managed kinds
  pthread_t foreign{};          // adopting: its driver (a plain pthread)
  bool started = false;
  int pipe_fds[2] = {-1, -1};   // blocked
  class Crowd* crowd = nullptr;
};

class Crowd {
 public:
  // Start `per_kind` members of each kind. Check ok() before use.
  static Crowd* start(Context& ctx, const std::vector<Kind>& kinds, int per_kind);
  bool ok() const { return ok_; }
  // Spin (yielding) until every member took a step, or a finding was made.
  void wait_running();
  // Fill `out` (sized once, so no allocation after the first call: safe
  // while the world is stopped and a stopped thread may hold malloc's lock).
  void snapshot(std::vector<uint64_t>& out) const;
  // Wake every blocked member once.
  void poke();
  // An `invariant` finding for the first member that moved from a to b.
  bool unchanged(const std::vector<uint64_t>& a, const std::vector<uint64_t>& b, const char* while_what);
  // The index of the first member inside its no-interrupt window, or -1.
  // Allocates nothing: call it with the world stopped, and report (which
  // allocates) after the restart.
  int first_in_window() const;
  // The `invariant` finding for member i, stopped inside its window.
  void report_stopped_in_window(int i);
  // Spin (yielding) until every member moved past b: no thread was lost.
  void wait_progress_past(const std::vector<uint64_t>& b);
  const std::vector<std::unique_ptr<Member>>& members() const { return members_; }
  // Stop, wake and join every thread, then delete the crowd (or abandon it
  // after a deadlock).
  void finish();

  Context& ctx;
  std::atomic<bool> stop{false};

 private:
  explicit Crowd(Context& c) : ctx(c) {}
  std::vector<std::unique_ptr<Member>> members_;
  bool ok_ = true;
};

}  // namespace threadlab::scn
