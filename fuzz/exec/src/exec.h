// exec.h — the interpreter's shared state: one Exec per execute() call, one
// Actor per thread it drives. Private to fuzz/exec.
//
// Invariants:
//   - Only the driver (the thread that called execute()) walks the program,
//     decides what applies (the model in interpreter.cpp), creates actors,
//     locks and mailboxes, and pushes tasks. Actors only run what they are
//     given, so each actor's ring has one producer and one consumer.
//   - An actor may be ended from outside (kill: the runtime unwinds it with
//     a longjmp, no destructors run). Hence everything an actor owns lives
//     in its Actor (owned by the Exec, on the heap), never on its own stack,
//     and the actor holds no mutex while it waits or runs an op.
//   - A task is done exactly once: by the actor that ran it (kDone) or by
//     whoever found its actor gone (kAbandoned); waiters wake either way.
#pragma once

#include <threadlab/adapter.h>
#include <threadlab/fuzz/interpreter.h>
#include <threadlab/fuzz/program.h>

#include <algorithm>
#include <array>
#include <condition_variable>
#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace threadlab::fuzz::detail {

struct Exec;
struct Actor;

enum TaskDone : uint32_t { kPending = 0, kDone = 1, kAbandoned = 2 };

// What the driver decided for one op (and, in preorder, its body's ops).
enum Plan : uint8_t { kRun = 0, kSkipCap = 1, kSkipNa = 2 };

struct Task {
  const Op* op = nullptr;  // nullptr: quit (release what you hold, end)
  size_t index = 0;        // top-level op index
  std::vector<uint8_t> plan;
  std::vector<Actor*> defines;  // threads its ops (body included) make
  std::atomic<uint32_t> done{kPending};
};

enum class Kind : uint8_t { Driver, Spawned, Foreign };
enum ActorState : int { kNotStarted = 0, kRunning = 1, kEnded = 2, kFailed = 3 };

constexpr unsigned kRing = 2 * kMaxOps + 8;   // more tasks than a program can send one thread
constexpr size_t kMaxObjects = 4096;           // objects an actor keeps reachable
constexpr unsigned kSlots = 1 + 4 * kMaxThreads;  // driver + t + f (fork bodies number on)
constexpr int kKillPollMs = 2000;              // an actor polls safe points this long for a kill

struct Actor {
  Exec* ex = nullptr;
  Kind kind = Kind::Driver;
  unsigned n = 0;     // tN / fN
  unsigned slot = 0;  // schedule slot: 0 driver, then t, then f
  std::string name;   // "t1", "f2", "main"
  std::atomic<tl_adapter_thread_id> id{0};         // adapter id (t: from spawn; f: 0)
  std::atomic<tl_adapter_thread_id> seen_self{0};  // what self() said on the thread
  std::atomic<int64_t> runs{0};                    // ops this actor ran
  std::atomic<int> state{kNotStarted};
  std::atomic<int> started{0};  // set by its creator: 1 made (id valid), -1 never will be
  std::atomic<bool> joined{false};
  std::thread foreign;  // f actors

  // The ring: driver pushes at tail, the actor pops at head.
  std::array<Task*, kRing> ring{};
  std::atomic<uint32_t> head{0}, tail{0};
  std::atomic<uint32_t> bell{0};
  std::atomic<bool> kill_wanted{false};  // a kill is on its way: poll safe points, do not idle

  // Touched only by the actor's own thread (reserved up front: no
  // allocation while an op runs, so a kill never lands inside malloc).
  std::vector<uintptr_t> objects;         // kept reachable on the value stack
  std::vector<tl_adapter_handle> held;    // locks it holds
  unsigned callback_depth = 0;            // f: callbacks entered by the interpreter
  unsigned region_depth = 0;              // blocking / without_gc bodies open
  bool in_blocking = false;               // inside a `blocking` body

  // The driver's model of it (interpreter.cpp), touched by the driver only.
  bool model_ended_ = false;   // exited, joined, killed, or never made
  bool model_joined_ = false;  // a join was issued
  bool model_receiving_ = false;  // has a receive that may not have finished
  bool quit_sent_ = false;        // the driver told it to leave
  bool spawn_certain_ = true;     // its maker will get to making it (not queued for a lock or behind a receive)
  bool model_stuck_ = false;      // told to leave while queued for a lock: it may wait until the teardown
};

struct LockModel {
  tl_adapter_handle h = 0;
  Actor* holder = nullptr;        // after every op issued so far completes
  std::vector<Actor*> waiters;    // issued locks still waiting for it
  std::vector<Actor*> will_release;  // waiters whose unlock is issued too
  // Who holds it in the runtime now, as the actors report their takes and
  // releases (the model's holder may not have taken it yet: its op can be
  // async, delayed or starved). A later take by another thread is issued
  // only once the modelled holder really holds it, so the runtime queues
  // the takes in the order the model assumes.
  std::atomic<Actor*> actual{nullptr};
  // The next waiter takes it; one whose unlock is issued lets it go on.
  void pass_on() {
    holder = nullptr;
    while (!waiters.empty()) {
      Actor* w = waiters.front();
      waiters.erase(waiters.begin());
      auto it = std::find(will_release.begin(), will_release.end(), w);
      if (it == will_release.end()) {
        holder = w;
        return;
      }
      will_release.erase(it);
    }
  }
};

struct BoxModel {
  tl_adapter_handle h = 0;
  // The driver's accounting (interpreter.cpp): receives issued, sends of
  // the task being planned, and the tasks holding sends it counts on.
  int64_t receives_issued = 0;
  int64_t sends_in_task = 0;
  std::vector<Task*> outstanding;
  std::atomic<uint64_t> sent{0}, sent_sum{0}, received{0}, received_sum{0};
};

struct Schedule {
  std::array<std::atomic<int>, kSlots> prio{};
  std::array<std::atomic<bool>, kSlots> runnable{};
  void init(uint64_t seed);
  void set_priority(unsigned slot, int p);
  // Before each op: yield (bounded) while a higher-priority actor is runnable.
  void gate(unsigned slot);
  void idle(unsigned slot);
  void busy(unsigned slot);
};

struct Exec {
  const tl_adapter* a = nullptr;
  ExecOptions o;
  bool in_child = false;  // a fork body's run: no baseline, exit status instead of abort
  ExecResult res;
  std::mutex mu;  // res.findings, res.errors, res counters written by actors

  std::vector<tl_adapter_thread_id> ids;  // threads of this program (under mu): lock-order cycles are theirs
  void add_id(tl_adapter_thread_id id);

  std::atomic<uint64_t> progress{0};
  std::atomic<bool> stopping{false};
  std::atomic<bool> recovering{false};  // the watchdog is killing: the teardown joins after it
  std::atomic<size_t> current{0};

  std::vector<std::unique_ptr<Actor>> actors;  // [0]: the driver
  std::map<std::pair<int, unsigned>, Actor*> names;
  std::deque<Task> tasks;
  std::array<LockModel, kMaxLocks + 1> locks{};
  std::array<BoxModel, kMaxMailboxes + 1> boxes{};
  Schedule sched;

  bool has(uint64_t cap) const { return (a->caps & cap) != 0; }
  const char* last_error() const;
  void finding(const std::string& verdict, size_t op, const std::string& text);
  void error(size_t op, const std::string& text);
  // An op skipped: for a lacking capability (cap) or not applicable now;
  // total=false counts a property (fail_nth) by name only.
  void skip(const char* what, bool cap, bool total = true);
};

// actor.cpp
void actor_main(void* actor);             // a spawned actor's thread
void foreign_main(Actor* actor);          // a foreign actor's thread
void push(Actor& to, Task* t);            // driver only
void wait_done(Actor& waiter, Task& t);   // driver only
void abandon(Actor& gone);                // actor ended from outside: its tasks are done
void mark_failed(Actor& a);               // its thread will never run (if not made yet): abandon its tasks
bool wait_started(Actor& t);              // false: its spawn failed
void idle_wait(Actor& me);
bool in_runtime(const Actor& me);
// kill through the adapter, with the target polling safe points meanwhile
// (an idle actor would otherwise be ended the hard way, after the runtime's
// kill timeout). Marks it ended and abandons its tasks on success.
int kill_actor(Actor& target);

// interpreter.cpp
// Test hook: called on the running thread before each op runs (nullptr: none).
extern void (*g_observe)(Actor& me, const Op& op);
void run_task(Actor& me, Task& t);
void release_all(Actor& me, size_t op);  // locks held and objects kept, checked

// fork_op.cpp
void run_fork(Actor& me, const Op& op, size_t index);

// invariants.cpp
void check_integrity(Exec& ex, size_t op);
void check_lock_order(Exec& ex, size_t op);
void drain_mailboxes(Exec& ex, size_t op);

// watchdog.cpp
class Watchdog {
 public:
  explicit Watchdog(Exec& ex);
  ~Watchdog();
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

 private:
  void run();
  void recover();
  Exec& ex_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool quit_ = false;
  std::thread thread_;
};
// Every thread the adapter knows, and the wait-for graph, as text.
std::string dump_threads(const tl_adapter* a);

// baseline_<os>.cpp
struct Baseline {
  unsigned threads = 0;
  std::vector<int> fds;  // sorted
};
Baseline take_baseline();
// take_baseline once the thread count has held still for 10 ms (a thread
// joined just now can stay listed a moment): execute.cpp.
Baseline settled_baseline();
// "" when now is back at base, else what remained ("2 threads more than
// the baseline's 3; fd 7 (/tmp/x) open").
std::string baseline_diff(const Baseline& base, const Baseline& now);

// interpreter.cpp: execute() itself, also a fork body's run.
ExecResult execute_in(const tl_adapter* a, const Program& p, const ExecOptions& o, bool in_child);

}  // namespace threadlab::fuzz::detail
