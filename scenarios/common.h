// common.h — helpers shared by scenarios: foreign threads (raw pthreads the
// runtime did not create) and their callbacks, a step gate for deterministic
// interleavings, and the tagged value-stack check that exposes shared or
// scribbled stacks. A block two scenario files would repeat belongs here.
//
// Invariants:
//   - Foreign threads are plain pthreads: the runtime learns of them only if
//     they call back through the adapter.
//   - tagged_push_pop pushes words that encode (tag, index) and checks every
//     popped word; a word from another thread's tag means two threads share
//     one stack (scribble), any other mismatch means corruption (scribble).
#pragma once

#include <pthread.h>

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include <threadlab/scenario.h>

namespace threadlab::scn {

// What the selftest scenarios declare alike: deliberately broken (so `run`
// leaves them out unless named or tagged), one short cycle.
inline const std::vector<std::string> kSelftestTags = {"selftest", "broken"};
constexpr Params one_cycle(int threads) {
  return {.threads = threads, .iterations = 1, .cycles = 1, .warmup = 0};
}

// True when the adapter offers `cap`: a scenario makes the checks that need
// one of its optional_caps only when this says so.
inline bool has_cap(const Context& ctx, uint64_t cap) { return (ctx.rt->caps & cap) != 0; }

// Run fn(i) on n foreign threads; join them all before returning.
void run_foreign(int n, const std::function<void(int)>& fn);

// Run body() inside one callback (callback_enter ... callback_exit) on the
// calling thread, a foreign one; false (with a finding) if the runtime did
// not let it in, and body did not run.
bool in_callback(Context& ctx, const std::function<void()>& body);

// Run fn(i) on n managed threads through the adapter; join them all.
// Returns false (with a finding) if a spawn or join failed.
bool run_managed(Context& ctx, int n, const char* name, const std::function<void(int)>& fn);

// Deterministic interleaving: threads wait for a step number, then advance.
class Gate {
 public:
  void wait_for(int step);
  void advance_to(int step);

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int step_ = 0;
};

inline uintptr_t tag_word(uint64_t tag, uint64_t i) { return static_cast<uintptr_t>((tag << 20) ^ (i * 0x9e37u) ^ 0x5a5a0000u); }

// Managed test objects: kObjectWords words, each a function of a tag.
constexpr size_t kObjectWords = 8;
void fill_object(uint64_t* o, uint64_t tag);
// True when o is live and intact; otherwise a finding says how it was
// found: freed (the runtime's poison byte) or handed out again although
// still referenced is `invariant`, and so is an object that now holds
// another object's fill (fill_object with another tag: freed and reused);
// any other change is `scribble` — unless nothing but the collector could
// have touched it (`only_gc_touches`), when any change means it was freed
// and reused: `invariant` too.
bool check_object(Context& ctx, const uint64_t* o, uint64_t tag, const std::string& where, bool only_gc_touches = false);

// Push `count` tagged words; returns false (finding recorded) on failure.
bool tagged_push(Context& ctx, uint64_t tag, int count);
// Pop `count` words and check they are the tagged words in reverse order.
bool tagged_pop_check(Context& ctx, uint64_t tag, int count, const char* who);

}  // namespace threadlab::scn
