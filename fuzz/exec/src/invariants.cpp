// invariants.cpp — what the runtime must keep, checked through the adapter.
//
// Invariants:
//   - check_integrity (TL_CAP_INTEGRITY) after each op (check_each_op) and
//     at the end: a TL_VIOLATION_SCRIBBLE is a "scribble" finding naming the
//     address, anything else an "invariant" finding. Each distinct text is
//     reported once per run (Exec::finding deduplicates).
//   - lock_order_cycles (TL_CAP_LOCKS, optional) at the end: each predicted
//     cycle is an "invariant" finding "potential deadlock: ...", whether or
//     not this run hung — when its threads are all this program's (cycles
//     are reported once per process) and at least two differ (a thread
//     cannot deadlock with itself by taking locks in other orders later).
//   - Mailboxes, at the teardown: every word sent is received or still in
//     the box. The box is closed (mailbox_close) and drained, or, without
//     close, received from exactly as often as words are left; then the
//     count and the sum of words sent must equal those received plus left.
#include <threadlab/adapter.h>

#include <algorithm>
#include <cstdio>
#include <string>

#include "exec.h"

namespace threadlab::fuzz::detail {

void check_integrity(Exec& ex, size_t op) {
  const tl_adapter* a = ex.a;
  if (!(a->caps & TL_CAP_INTEGRITY)) return;
  tl_adapter_violation v[16];
  const int n = a->check_integrity(v, 16);
  if (n < 0) {
    ex.error(op, std::string("check_integrity: ") + ex.last_error());
    return;
  }
  for (int i = 0; i < n && i < 16; ++i) {
    char text[256];
    if (v[i].kind == TL_VIOLATION_SCRIBBLE) {
      std::snprintf(text, sizeof text, "%s (address 0x%llx, thread %llu)", v[i].what,
                    static_cast<unsigned long long>(v[i].address), static_cast<unsigned long long>(v[i].thread));
      ex.finding("scribble", op, text);
    } else {
      std::snprintf(text, sizeof text, "%s (thread %llu)", v[i].what, static_cast<unsigned long long>(v[i].thread));
      ex.finding("invariant", op, text);
    }
  }
}

void check_lock_order(Exec& ex, size_t op) {
  const tl_adapter* a = ex.a;
  if (!(a->caps & TL_CAP_LOCKS) || !a->lock_order_cycles) return;
  tl_adapter_lock_cycle c[8];
  size_t n = 0;
  if (a->lock_order_cycles(c, 8, &n) != TL_ADAPTER_OK) return;
  for (size_t i = 0; i < n && i < 8; ++i) {
    // Cycles are reported once per process: one whose threads are not all
    // this program's was another program's (locks are freed and their
    // memory reused between programs).
    bool ours = true;
    {
      std::lock_guard<std::mutex> g(ex.mu);
      for (unsigned j = 0; j < c[i].n && j < TL_ADAPTER_CYCLE_MAX; ++j)
        ours = ours && std::find(ex.ids.begin(), ex.ids.end(), c[i].threads[j]) != ex.ids.end();
    }
    // One thread taking locks in inconsistent orders at different times
    // cannot deadlock with itself: a cycle needs two threads at least.
    bool two = false;
    for (unsigned j = 1; j < c[i].n && j < TL_ADAPTER_CYCLE_MAX; ++j) two = two || c[i].threads[j] != c[i].threads[0];
    if (!ours || !two) continue;
    std::string text = "potential deadlock:";
    for (unsigned j = 0; j < c[i].n && j < TL_ADAPTER_CYCLE_MAX; ++j) {
      const unsigned k = (j + 1) % c[i].n;
      text += " thread " + std::to_string(c[i].threads[j]) + " took '" + c[i].lock_names[k] + "' holding '" +
              c[i].lock_names[j] + "';";
    }
    ex.finding("invariant", op, text);
  }
}

void drain_mailboxes(Exec& ex, size_t at) {
  const tl_adapter* a = ex.a;
  for (unsigned i = 1; i < ex.boxes.size(); ++i) {
    BoxModel& b = ex.boxes[i];
    if (!b.h) continue;
    uint64_t left = 0, left_sum = 0, w = 0;
    const uint64_t sent = b.sent.load(), received = b.received.load();
    if (a->mailbox_close && a->mailbox_close(b.h) == TL_ADAPTER_OK) {
      while (left <= sent && a->mailbox_receive(b.h, &w) == TL_ADAPTER_OK) {
        ++left;
        left_sum += w;
      }
    } else {
      for (uint64_t k = received; k < sent && a->mailbox_receive(b.h, &w) == TL_ADAPTER_OK; ++k) {
        ++left;
        left_sum += w;
      }
    }
    if (sent != received + left || b.sent_sum.load() != b.received_sum.load() + left_sum) {
      char text[256];
      std::snprintf(text, sizeof text,
                    "mailbox m%u: %llu words sent (sum %llu), %llu received (sum %llu), %llu left (sum %llu)", i,
                    static_cast<unsigned long long>(sent), static_cast<unsigned long long>(b.sent_sum.load()),
                    static_cast<unsigned long long>(received), static_cast<unsigned long long>(b.received_sum.load()),
                    static_cast<unsigned long long>(left), static_cast<unsigned long long>(left_sum));
      ex.finding("invariant", at, text);
    }
    a->mailbox_free(b.h);
    b.h = 0;
  }
}

}  // namespace threadlab::fuzz::detail
