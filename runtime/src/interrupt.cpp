// interrupt.cpp — tl_interrupt and delivery at safe points.
#include "interrupt.h"

#include <new>

#include "globals.h"
#include "record.h"
#include "registry.h"
#include "world.h"
#include "status.h"

namespace tl {

void run_interrupts(Record* r) {
  InterruptNode* list = r->interrupts.exchange(nullptr, std::memory_order_acq_rel);
  // The list is newest-first; run oldest first.
  InterruptNode* rev = nullptr;
  while (list) {
    InterruptNode* next = list->next;
    list->next = rev;
    rev = list;
    list = next;
  }
  while (rev) {
    InterruptNode* next = rev->next;
    rev->fn(rev->arg);
    delete rev;
    rev = next;
  }
}

unsigned drop_interrupts(Record* r) {
  InterruptNode* list = r->interrupts.exchange(nullptr, std::memory_order_acq_rel);
  unsigned n = 0;
  while (list) {
    InterruptNode* next = list->next;
    delete list;
    list = next;
    ++n;
  }
  return n;
}

}  // namespace tl

using namespace tl;

extern "C" int tl_interrupt(tl_thread_id target, void (*fn)(void*), void* arg) {
  TL_REQUIRE_INIT();
  if (!fn) return fail(TL_EINVAL, "tl_interrupt: fn is NULL");
  if (world::caller_is_stopper())
    return fail(TL_EDEADLK, "tl_interrupt: the calling thread holds the world stopped (the request is allocated); interrupt after tl_resume_others");
  auto* node = new (std::nothrow) InterruptNode{nullptr, fn, arg};
  if (!node) return fail(TL_ENOMEM, "tl_interrupt: no memory for the request");
  registry().lock();
  Record* r = registry().find_by_id_locked(target);
  State s = r ? r->current_state() : State::Dead;
  if (!r || s == State::Dead || s == State::Exiting) {
    registry().unlock();
    delete node;
    if (!r) return fail(TL_ENOTHREAD, "tl_interrupt: no thread %llu", static_cast<unsigned long long>(target));
    return fail(TL_ESTATE, "tl_interrupt: thread %llu is %s", static_cast<unsigned long long>(target), state_name(s));
  }
  InterruptNode* head = r->interrupts.load(std::memory_order_relaxed);
  do {
    node->next = head;
  } while (!r->interrupts.compare_exchange_weak(head, node, std::memory_order_acq_rel));
  registry().unlock();
  return TL_OK;
}
