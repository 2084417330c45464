// reference_mailboxes.cpp — the reference adapter's mailboxes: runtime
// tl_mailboxes (bounded, blocking without limit through the adapter, a
// kill point while they wait).
//
// Invariant: a handle is the tl_mailbox's address; freeing one that a
// thread still waits on fails (the runtime refuses) instead of freeing it.
#include <threadlab/runtime.h>

#include "adapters/reference_ops.h"

namespace threadlab::ref {
namespace {
tl_mailbox* of(tl_adapter_handle h) { return reinterpret_cast<tl_mailbox*>(static_cast<uintptr_t>(h)); }
}  // namespace

int mailbox_new(size_t capacity, tl_adapter_handle* out) {
  tl_mailbox* b = nullptr;
  const int rc = st(tl_mailbox_new(capacity, "mailbox", &b), "tl_mailbox_new");
  if (rc == TL_ADAPTER_OK) *out = reinterpret_cast<uintptr_t>(b);
  return rc;
}
int mailbox_send(tl_adapter_handle h, uint64_t word) {
  return st(tl_mailbox_send(of(h), word, TL_FOREVER), "tl_mailbox_send");
}
int mailbox_receive(tl_adapter_handle h, uint64_t* word) {
  return st(tl_mailbox_receive(of(h), word, TL_FOREVER), "tl_mailbox_receive");
}
int mailbox_close(tl_adapter_handle h) { return st(tl_mailbox_close(of(h)), "tl_mailbox_close"); }
int mailbox_free(tl_adapter_handle h) { return st(tl_mailbox_free(of(h)), "tl_mailbox_free"); }

}  // namespace threadlab::ref
