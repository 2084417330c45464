// mailbox.cpp — bounded mailboxes of 64-bit words (lt-threads' mailboxes,
// without their limits): many senders and receivers, blocking send on a
// full box and receive on an empty one, with timeouts, and close.
//
// Invariants:
//   - The ring (head, count) changes only under `mu`, a leaf lock taken
//     inside a no-stop scope and never held across a wait; so a word is
//     delivered once, and words from one sender arrive in its order.
//   - A waiter reads its sequence word (not_full / not_empty) and counts
//     itself in the sleepers under `mu`, then sleeps on the word outside
//     it; every change that could let it go on bumps the word under `mu`
//     and wakes after dropping it, so no wake-up is lost. It sleeps BLOCKED
//     (stop-the-world never signals it) in slices of kWaitSliceUs, to honour
//     a kill or its deadline.
//   - closed never goes back to false; close bumps both words and wakes
//     everyone. Receives drain what is left before they report TL_ECLOSED.
//   - free refuses while any thread sleeps on the box.
//   - Every box is on one list (its own leaf lock), so the fork handlers
//     find them all: taken around fork(), re-initialised in the child with
//     the sleepers that did not survive uncounted (fork.h).
#include <pthread.h>
#include <time.h>

#include <cstdio>
#include <cstdlib>
#include <new>

#include "blocking.h"
#include "fork.h"
#include "current.h"
#include "inject.h"
#include "kill.h"
#include "lock_rank.h"
#include "os.h"
#include "record.h"
#include "status.h"
#include "world.h"

struct tl_mailbox {
  pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
  uint64_t* ring = nullptr;
  size_t capacity = 0, head = 0, count = 0;
  bool closed = false;
  uint32_t not_full = 0, not_empty = 0;  // sequence words sleepers wait on
  unsigned send_sleepers = 0, recv_sleepers = 0;
  char name[TL_NAME_MAX] = {};
  tl_mailbox* prev_box = nullptr;  // on the list of every box [g_boxes_mu]
  tl_mailbox* next_box = nullptr;
};

using namespace tl;

namespace {
constexpr unsigned kWaitSliceUs = 20000;

// Every box, for fork.cpp: the list lock is a leaf lock of its own (never
// held with a box's lock, except by the fork handlers).
pthread_mutex_t g_boxes_mu = PTHREAD_MUTEX_INITIALIZER;
tl_mailbox* g_boxes = nullptr;

void link_box(tl_mailbox* b) {
  NoStopScope no_stop;
  lock_ranked(&g_boxes_mu, Rank::Leaf, "mailbox list");
  b->next_box = g_boxes;
  if (g_boxes) g_boxes->prev_box = b;
  g_boxes = b;
  unlock_ranked(&g_boxes_mu, Rank::Leaf);
}
void unlink_box(tl_mailbox* b) {
  NoStopScope no_stop;
  lock_ranked(&g_boxes_mu, Rank::Leaf, "mailbox list");
  (b->prev_box ? b->prev_box->next_box : g_boxes) = b->next_box;
  if (b->next_box) b->next_box->prev_box = b->prev_box;
  unlock_ranked(&g_boxes_mu, Rank::Leaf);
}

uint64_t now_us() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000u + static_cast<uint64_t>(ts.tv_nsec) / 1000u;
}

void lock(tl_mailbox* b) { lock_ranked(&b->mu, Rank::Leaf, "mailbox"); }
void unlock(tl_mailbox* b) { unlock_ranked(&b->mu, Rank::Leaf); }

// Sleep on *word (seen as `seen` under mu) for one slice or until the
// deadline. kSlept, kLate (the deadline passed) or kKilled (a kill was
// requested: the caller unwinds once it is no longer counted a sleeper).
enum Woke { kSlept, kLate, kKilled };
Woke wait_once(Record* r, uint32_t* word, uint32_t seen, uint64_t deadline) {
  unsigned slice = kWaitSliceUs;
  if (deadline) {
    const uint64_t t = now_us();
    if (t >= deadline) return kLate;
    if (deadline - t < slice) slice = static_cast<unsigned>(deadline - t);
  }
  const bool managed = r && r->current_state() == State::Managed && world::stopper() != r;
  if (managed) {
    world::save_own_context(r);
    r->move(State::Managed, State::Blocked);
  }
  os::futex_wait_for(word, seen, slice);
  if (managed) {
    r->move(State::Blocked, State::Managed);
    if (r->kill_requested.load(std::memory_order_acquire)) return kKilled;
  }
  return kSlept;
}

// One attempt under mu, then a sleep. Returns TL_OK, TL_ECLOSED, or 1 to
// try again.
template <bool Send>
int attempt(tl_mailbox* b, uint64_t* word, unsigned timeout_ms, uint64_t deadline, Record* r) {
  uint32_t* wake_word = nullptr;
  uint32_t seen = 0;
  {
    NoStopScope no_stop;
    lock(b);
    if (Send && b->closed) {
      unlock(b);
      return TL_ECLOSED;
    }
    const bool can = Send ? b->count < b->capacity : b->count > 0;
    // DEFECT mailbox_drops_when_full: a send to a full box overwrites the
    // oldest word instead of waiting for room.
    const bool drop = Send && !can && TL_INJECT(mailbox_drops_when_full);
    if (can || drop) {
      if (Send) {
        if (drop) {
          b->head = (b->head + 1) % b->capacity;
          --b->count;
        }
        b->ring[(b->head + b->count) % b->capacity] = *word;
        ++b->count;
      } else {
        *word = b->ring[b->head];
        b->head = (b->head + 1) % b->capacity;
        --b->count;
      }
      uint32_t* other = Send ? &b->not_empty : &b->not_full;
      const bool wake = Send ? b->recv_sleepers > 0 : b->send_sleepers > 0;
      if (wake) __atomic_store_n(other, *other + 1, __ATOMIC_RELEASE);
      unlock(b);
      if (wake) os::futex_wake(other, 1);
      return TL_OK;
    }
    if (!Send && b->closed) {
      unlock(b);
      return TL_ECLOSED;
    }
    if (timeout_ms == 0) {
      unlock(b);
      return TL_ETIMEDOUT;
    }
    wake_word = Send ? &b->not_full : &b->not_empty;
    seen = *wake_word;
    ++(Send ? b->send_sleepers : b->recv_sleepers);
    unlock(b);
  }
  const Woke woke = wait_once(r, wake_word, seen, deadline);
  {
    NoStopScope no_stop;
    lock(b);
    --(Send ? b->send_sleepers : b->recv_sleepers);
    unlock(b);
  }
  if (woke == kKilled) kill_unwind(r);
  return woke == kSlept ? 1 : TL_ETIMEDOUT;
}

template <bool Send>
int transfer(tl_mailbox* b, uint64_t* word, unsigned timeout_ms, const char* what) {
  if (!b || !word) return fail(TL_EINVAL, "%s: %s is NULL", what, b ? "word" : "mailbox");
  Record* r = current_record();
  const uint64_t deadline = timeout_ms == TL_FOREVER ? 0 : now_us() + uint64_t{timeout_ms} * 1000u;
  for (;;) {
    const int rc = attempt<Send>(b, word, timeout_ms, deadline, r);
    if (rc == TL_OK) return TL_OK;
    if (rc == TL_ECLOSED) return fail(TL_ECLOSED, "%s: mailbox %s is closed", what, b->name);
    if (rc == TL_ETIMEDOUT)
      return fail(TL_ETIMEDOUT, "%s: mailbox %s still %s after %u ms", what, b->name, Send ? "full" : "empty",
                  timeout_ms);
  }
}
}  // namespace

extern "C" int tl_mailbox_new(size_t capacity, const char* name, tl_mailbox** out) {
  if (!out || capacity == 0) return fail(TL_EINVAL, "tl_mailbox_new: %s", out ? "capacity 0" : "out is NULL");
  auto* b = new (std::nothrow) tl_mailbox;
  uint64_t* ring = b ? static_cast<uint64_t*>(std::calloc(capacity, sizeof(uint64_t))) : nullptr;
  if (!ring) {
    delete b;
    return fail(TL_ENOMEM, "tl_mailbox_new: no memory for %zu words", capacity);
  }
  b->ring = ring;
  b->capacity = capacity;
  std::snprintf(b->name, sizeof b->name, "%s", name ? name : "mailbox");
  link_box(b);
  *out = b;
  return TL_OK;
}

extern "C" int tl_mailbox_send(tl_mailbox* b, uint64_t word, unsigned timeout_ms) {
  return transfer<true>(b, &word, timeout_ms, "tl_mailbox_send");
}

extern "C" int tl_mailbox_receive(tl_mailbox* b, uint64_t* word, unsigned timeout_ms) {
  return transfer<false>(b, word, timeout_ms, "tl_mailbox_receive");
}

extern "C" int tl_mailbox_close(tl_mailbox* b) {
  if (!b) return fail(TL_EINVAL, "tl_mailbox_close: mailbox is NULL");
  {
    NoStopScope no_stop;
    lock(b);
    b->closed = true;
    __atomic_store_n(&b->not_full, b->not_full + 1, __ATOMIC_RELEASE);
    __atomic_store_n(&b->not_empty, b->not_empty + 1, __ATOMIC_RELEASE);
    unlock(b);
  }
  os::futex_wake(&b->not_full, 1 << 30);
  os::futex_wake(&b->not_empty, 1 << 30);
  return TL_OK;
}

extern "C" int tl_mailbox_free(tl_mailbox* b) {
  if (!b) return TL_OK;
  unsigned sleepers;
  {
    NoStopScope no_stop;
    lock(b);
    sleepers = b->send_sleepers + b->recv_sleepers;
    unlock(b);
  }
  if (sleepers) return fail(TL_ESTATE, "tl_mailbox_free: %u thread(s) still wait on mailbox %s", sleepers, b->name);
  unlink_box(b);
  std::free(b->ring);
  delete b;
  return TL_OK;
}

// Fork (fork.h): the list lock, then every box's lock, in list order.
void tl::mailboxes_fork_lock() {
  pthread_mutex_lock(&g_boxes_mu);
  for (tl_mailbox* b = g_boxes; b; b = b->next_box) pthread_mutex_lock(&b->mu);
}
void tl::mailboxes_fork_unlock() {
  for (tl_mailbox* b = g_boxes; b; b = b->next_box) pthread_mutex_unlock(&b->mu);
  pthread_mutex_unlock(&g_boxes_mu);
}
unsigned tl::mailboxes_fork_child() {
  unsigned reset = 0;
  for (tl_mailbox* b = g_boxes; b; b = b->next_box) {
    // The forking thread sleeps on no box: every sleeper counted is gone.
    if (b->send_sleepers + b->recv_sleepers) ++reset;
    b->send_sleepers = b->recv_sleepers = 0;
  }
  return reset;
}
