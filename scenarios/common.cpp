// common.cpp — see common.h.
#include "common.h"

#include <fmt/format.h>

namespace threadlab::scn {

namespace {
struct ForeignArg {
  const std::function<void(int)>* fn;
  int i;
};
void* foreign_main(void* p) {
  thread_started();
  auto* a = static_cast<ForeignArg*>(p);
  (*a->fn)(a->i);
  return nullptr;
}
struct ManagedArg {
  const std::function<void(int)>* fn;
  int i;
};
void managed_main(void* p) {
  auto* a = static_cast<ManagedArg*>(p);
  (*a->fn)(a->i);
}
}  // namespace

void run_foreign(int n, const std::function<void(int)>& fn) {
  std::vector<pthread_t> t(static_cast<size_t>(n));
  std::vector<ForeignArg> args(static_cast<size_t>(n));
  std::vector<bool> started(static_cast<size_t>(n), false);
  for (int i = 0; i < n; ++i) {
    args[i] = {&fn, i};
    started[i] = pthread_create(&t[i], nullptr, foreign_main, &args[i]) == 0;
  }
  for (int i = 0; i < n; ++i)
    if (started[i]) pthread_join(t[i], nullptr);
}

bool in_callback(Context& ctx, const std::function<void()>& body) {
  if (!ctx.call.callback_enter()) return false;
  body();
  ctx.call.callback_exit();
  return true;
}

bool run_managed(Context& ctx, int n, const char* name, const std::function<void(int)>& fn) {
  std::vector<ManagedArg> args(static_cast<size_t>(n));
  std::vector<tl_adapter_thread_id> ids;
  bool ok = true;
  for (int i = 0; i < n; ++i) {
    args[i] = {&fn, i};
    tl_adapter_thread_id id = 0;
    if (ctx.call.spawn(name, managed_main, &args[i], &id))
      ids.push_back(id);
    else
      ok = false;
  }
  for (auto id : ids) ok = ctx.call.join(id) && ok;
  return ok;
}

void Gate::wait_for(int step) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return step_ >= step; });
}

void Gate::advance_to(int step) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (step > step_) step_ = step;
  }
  cv_.notify_all();
}

bool tagged_push(Context& ctx, uint64_t tag, int count) {
  for (int i = 0; i < count; ++i)
    if (!ctx.call.value_push(tag_word(tag, static_cast<uint64_t>(i)))) return false;
  return true;
}

bool tagged_pop_check(Context& ctx, uint64_t tag, int count, const char* who) {
  for (int i = count - 1; i >= 0; --i) {
    uintptr_t w = 0;
    if (!ctx.call.value_pop(&w)) return false;
    uintptr_t want = tag_word(tag, static_cast<uint64_t>(i));
    if (w != want) {
      ctx.finding(Verdict::Scribble,
                  fmt::format("{}: value stack of thread {} returned {:#x} where it pushed {:#x} "
                              "(another thread's words: stacks shared or overwritten)",
                              who, ctx.rt->self(), w, want),
                  ctx.rt->self(), 0);
      return false;
    }
  }
  return true;
}

}  // namespace threadlab::scn

namespace threadlab::scn {

namespace {
// Word i of an object filled for tag.
uint64_t fill_word(uint64_t tag, size_t i) { return tag * 0x9e3779b97f4a7c15ull + i; }
}  // namespace

void fill_object(uint64_t* o, uint64_t tag) {
  for (size_t i = 0; i < kObjectWords; ++i) o[i] = fill_word(tag, i);
}

namespace {
// True when o, no longer intact, holds another object's fill (fill_object
// with a different tag), word for word or still being written over the old
// contents or the poison: it was freed and handed out again. Any other
// change is someone writing where they should not.
bool holds_another_objects_fill(const uint64_t* o, uint64_t tag, unsigned char poison) {
  uint64_t poison_word = 0;
  for (size_t k = 0; k < sizeof poison_word; ++k) poison_word = (poison_word << 8) | poison;
  size_t theirs = 0;  // words of the other fill: one alone could be any stray store
  uint64_t base = 0;
  for (size_t i = 0; i < kObjectWords; ++i) {
    const uint64_t w = o[i];
    if (w == fill_word(tag, i) || (poison != 0 && w == poison_word)) continue;
    if (theirs == 0) base = w - i;
    else if (w != base + i) return false;
    ++theirs;
  }
  return theirs >= 2;
}
}  // namespace

bool check_object(Context& ctx, const uint64_t* o, uint64_t tag, const std::string& where, bool only_gc_touches) {
  const bool live = ctx.rt->is_live(o) != 0;
  bool same = true;
  for (size_t i = 0; i < kObjectWords && live; ++i) same = same && o[i] == fill_word(tag, i);
  if (live && same) return true;
  bool poisoned = ctx.rt->poison_byte != 0;
  const auto* b = reinterpret_cast<const unsigned char*>(o);
  for (size_t i = sizeof(void*); i < kObjectWords * 8 && poisoned; ++i) poisoned = b[i] == ctx.rt->poison_byte;
  const bool reused = live && !poisoned && (only_gc_touches || holds_another_objects_fill(o, tag, ctx.rt->poison_byte));
  ctx.finding(live && !poisoned && !reused ? Verdict::Scribble : Verdict::Invariant,
              fmt::format("object {} ({}) after a collection: {}", static_cast<const void*>(o), where,
                          !live || poisoned ? "freed (poisoned) although still referenced"
                          : reused          ? "freed and handed out again although still referenced"
                                            : "its contents changed"),
              ctx.rt->self(), reinterpret_cast<uintptr_t>(o));
  return false;
}

}  // namespace threadlab::scn
