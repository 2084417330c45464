// internal.h — what the cpython adapter's files share: the thread table,
// each thread's own attachment state, the GIL guard, and the error slot.
//
// The adapter's model of CPython (README of this directory, docs/findings):
//   - A thread is *attached* while it owns a CPython thread state: from
//     init on the initial thread, for a spawned thread's whole life, and on
//     a foreign thread from its outermost callback_enter to the matching
//     callback_exit (PyGILState_Ensure / PyGILState_Release).
//   - An attached thread holds the GIL only inside an adapter operation
//     (a Hold): between operations it is in CPython's Py_BEGIN_ALLOW_THREADS
//     state, so native code that waits for a peer never holds the GIL.
//   - `Tls::saved` is the attached thread state while the GIL is released;
//     `Tls::held` counts nested Holds on this thread.
#pragma once

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <pthread.h>

#include <atomic>
#include <cstdint>
#include <vector>

#include <threadlab/adapter.h>

namespace tlpy {

// ---- errors (error.cpp) -----------------------------------------------
int fail(int rc, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
const char* last_error();

// ---- thread table (table.cpp) -----------------------------------------
// What a thread is doing, for thread_list: written by the thread itself.
enum class State : int { Native, Python, GilWait, Blocking, Foreign, Detached, LockWait };
const char* state_name(State s);

struct Pending {
  tl_adapter_fn fn;
  void* arg;
};

struct Slot {
  std::atomic<uint64_t> id{0};  // 0 free; UINT64_MAX being claimed
  std::atomic<int64_t> tid{-1};
  std::atomic<int> state{0};
  std::atomic<unsigned long> py_ident{0};  // PyThread_get_thread_ident of the owner
  char name[32] = {};
  pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;  // guards pending and the release of id
  std::vector<Pending>* pending = nullptr;         // interrupts queued for this thread
  std::atomic<unsigned> npending{0};
  std::atomic<uint64_t> waiting{0};  // lock handle this thread blocks on (locks.cpp)
};

constexpr size_t kSlots = 4096;
extern Slot g_slots[kSlots];
extern std::atomic<uint64_t> g_live;

// The calling thread's slot, claiming one (named `name`) when it has none;
// nullptr when the table is full.
Slot* claim(const char* name);
// The calling thread's slot, or nullptr.
Slot* current();
void set_state(State s);
// Forget every slot but the caller's (fork child: only it survives).
void forget_others();

// ---- per-thread attachment (gil.cpp) ----------------------------------
struct Tls {
  PyThreadState* saved = nullptr;          // attached thread state, GIL released
  int held = 0;                            // nested Holds
  std::vector<PyGILState_STATE> callbacks;  // callback_enter nesting
  std::vector<int> regions;                // region kinds, innermost last
  int no_interrupt = 0;
};
Tls& tls();

// Holds the GIL for its scope. An attached thread retakes it with its own
// thread state (PyEval_RestoreThread, as Py_END_ALLOW_THREADS); an
// unattached one only when `adopt` is true, through PyGILState_Ensure
// (a thread state made for the scope and deleted at its end).
class Hold {
 public:
  explicit Hold(bool adopt = true);
  ~Hold();
  Hold(const Hold&) = delete;
  Hold& operator=(const Hold&) = delete;
  bool ok() const { return mode_ != Mode::None; }
  bool adopted() const { return mode_ == Mode::Ensured; }

 private:
  enum class Mode { None, Nested, Restored, Ensured } mode_ = Mode::None;
  PyGILState_STATE st_{};
};

// ---- python-side objects made at init (pyobjects.cpp) ------------------
int make_py_objects();            // with the GIL
extern PyObject* g_interrupt_exc;  // threadlab.Interrupt, raised asynchronously
extern PyObject* g_safepoint_fn;   // a Python no-op: its RESUME polls the eval breaker
extern PyObject* g_gc_get_objects;

// ---- spawned threads' map around fork (spawn.cpp) ---------------------
void spawn_fork_prepare();
void spawn_fork_parent();
void spawn_fork_child();

// The fork child's keeper thread state (fork.cpp), bound to no thread.
extern PyThreadState* g_fork_keeper;

// ---- interrupts (interrupt.cpp) ---------------------------------------
// Run what is queued for the calling thread (a safe point); never with a Hold.
int poll_safepoint();
void drop_pending(Slot* s);
void print_interrupt_stats();

}  // namespace tlpy

// The operations, one file a mechanism; adapter.cpp puts them in the table.
extern "C" {
int tlpy_init(void);
const char* tlpy_last_error(void);
int tlpy_spawn(const char* name, tl_adapter_fn fn, void* arg, tl_adapter_thread_id* out);
int tlpy_join(tl_adapter_thread_id id);
tl_adapter_thread_id tlpy_self(void);
int tlpy_callback_enter(void);
int tlpy_callback_exit(void);
int tlpy_interrupt(tl_adapter_thread_id id, tl_adapter_fn fn, void* arg);
int tlpy_collect(void);
int tlpy_fork_prepare(void);
int tlpy_fork_parent(void);
int tlpy_fork_child(void);
int tlpy_value_push(uintptr_t w);
int tlpy_value_pop(uintptr_t* w);
int tlpy_counters(tl_adapter_counter* out, size_t cap, size_t* count);
int tlpy_thread_list(tl_adapter_thread* out, size_t cap, size_t* count);
int tlpy_safepoint(void);
int tlpy_foreign_begin(void);
int tlpy_foreign_end(void);
int tlpy_blocking_begin(void);
int tlpy_blocking_end(void);
int tlpy_no_interrupt_begin(void);
int tlpy_no_interrupt_end(void);
uint64_t tlpy_unjoined(void);
int tlpy_lock_new(const char* name, tl_adapter_handle* out);
int tlpy_lock(tl_adapter_handle h);
int tlpy_unlock(tl_adapter_handle h);
int tlpy_lock_free(tl_adapter_handle h);
int tlpy_wait_edges(tl_adapter_wait_edge* out, size_t cap, size_t* count);
const char* tlpy_lock_name(uint64_t h);
}
