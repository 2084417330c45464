// runtime.cpp — tl_init, configuration, counters, trimming and identity.
#include <stdlib.h>

#include <new>

#include "adopt_cache.h"
#include "race_point.h"
#include "current.h"
#include "fault.h"
#include "fork.h"
#include "globals.h"
#include "inject.h"
#include "ledger.h"
#include "lifecycle.h"
#include "os.h"
#include "registry.h"
#include "slot.h"
#include "status.h"
#include "thread_handles.h"
#include "world.h"

namespace tl {

Runtime& rt() {
  static Runtime* r = new Runtime();  // never destroyed: threads outlive statics
  return *r;
}

Ledger& ledger() {
  static Ledger* l = new Ledger();
  return *l;
}

}  // namespace tl

using namespace tl;

extern "C" void tl_config_defaults(tl_config* cfg) {
  if (!cfg) return;
  cfg->control_stack_bytes = size_t{1} << 20;
  cfg->value_stack_bytes = 256 * 1024;
  cfg->temp_stack_bytes = 256 * 1024;
  cfg->allow_adoption = 1;
  cfg->suspend_policy = TL_SUSPEND_PREEMPTIVE;
  cfg->stack_cache = 64;
  cfg->suspend_timeout_ms = 5000;
  cfg->suspend_resend_ms = 20;
  cfg->hybrid_grace_us = 500;
}

extern "C" int tl_init(const tl_config* user) {
  static pthread_mutex_t init_mu = PTHREAD_MUTEX_INITIALIZER;
  pthread_mutex_lock(&init_mu);
  struct Unlock {
    ~Unlock() { pthread_mutex_unlock(&init_mu); }
  } unlock;
  if (initialized()) return fail(TL_EALREADY, "tl_init: already initialised");
  tl_config cfg;
  tl_config_defaults(&cfg);
  if (user) {
    if (user->control_stack_bytes) cfg.control_stack_bytes = user->control_stack_bytes;
    if (user->value_stack_bytes) cfg.value_stack_bytes = user->value_stack_bytes;
    if (user->temp_stack_bytes) cfg.temp_stack_bytes = user->temp_stack_bytes;
    cfg.allow_adoption = user->allow_adoption;
    cfg.suspend_policy = user->suspend_policy;
    if (user->stack_cache) cfg.stack_cache = user->stack_cache;
    if (user->suspend_timeout_ms) cfg.suspend_timeout_ms = user->suspend_timeout_ms;
    if (user->suspend_resend_ms) cfg.suspend_resend_ms = user->suspend_resend_ms;
    if (user->hybrid_grace_us) cfg.hybrid_grace_us = user->hybrid_grace_us;
  }
  size_t cs = cfg.control_stack_bytes;
  if (cs < (size_t{64} << 10) || (cs & (cs - 1)) != 0)
    return fail(TL_EINVAL, "tl_init: control_stack_bytes must be a power of two >= 64 KiB, not %zu", cs);
  if (cfg.suspend_policy != TL_SUSPEND_PREEMPTIVE && cfg.suspend_policy != TL_SUSPEND_HYBRID)
    return fail(TL_EINVAL, "tl_init: unknown suspend_policy %d", cfg.suspend_policy);
  if (int rc = inject::enable_list(getenv("THREADLAB_INJECT")); rc != TL_OK) return rc;
  if (int rc = race::configure(getenv("THREADLAB_RACE_WIDEN")); rc != TL_OK) return rc;

  current_init();
  world::init(cfg.suspend_policy, cfg.suspend_timeout_ms, cfg.suspend_resend_ms, cfg.hybrid_grace_us);
  handles_init();  // before any thread can need one
  slots_configure(cfg.control_stack_bytes, cfg.stack_cache, cfg.value_stack_bytes, cfg.temp_stack_bytes);
  adopt_cache_configure(cfg.stack_cache);

  auto* r = new (std::nothrow) Record();
  if (!r) return fail(TL_ENOMEM, "tl_init: no memory for the initial record");
  if (!record_map_stacks(r, cfg.value_stack_bytes, cfg.temp_stack_bytes)) {
    delete r;
    return fail(TL_ENOMEM, "tl_init: could not map the initial thread's value/temp stacks");
  }
  r->id = rt().next_id.fetch_add(1);
  r->flags = TL_FLAG_INITIAL;
  r->pthread = pthread_self();
  r->kernel_tid.store(os::kernel_tid());
  r->mach_port = os::mach_thread_port(r->pthread);
  snprintf(r->name, TL_NAME_MAX, "initial");
  os::Bounds b;
  if (os::control_stack_bounds(&b)) {
    r->control_lo = b.lo;
    r->control_hi = b.hi;
  }
  ledger().records_live.fetch_add(1);
  registry().insert(r);
  // exit() runs no key destructors, so the initial record is torn down
  // only if the initial thread calls pthread_exit; it is never retired.
  set_current(r);
  if (int rc = fault::install(); rc != TL_OK) return rc;  // SIGSEGV/SIGBUS (fault.h)
  if (int rc = fault::thread_attach(r); rc != TL_OK) return rc;
  r->move(State::Creating, State::Managed);
  rt().cfg = cfg;
  rt().initial = r;
  rt().allow_adoption.store(cfg.allow_adoption != 0);
  forking::install();  // the pthread_atfork handlers (fork.h)
  rt().initialized.store(true, std::memory_order_release);
  return TL_OK;
}

extern "C" int tl_is_initialized(void) { return initialized() ? 1 : 0; }

extern "C" tl_thread_id tl_self(void) {
  Record* r = current_record();
  return r ? r->id : 0;
}

extern "C" tl_thread_id tl_self_by(int strategy) {
  Record* r = nullptr;
  switch (strategy) {
    case TL_LOOKUP_TLS: r = current_record(); break;
    case TL_LOOKUP_KEY: r = current_record_by_key(); break;
    case TL_LOOKUP_STACK: r = current_record_by_stack(); break;
    default: return 0;
  }
  return r ? r->id : 0;
}

extern "C" tl_thread_id tl_thread_at_stack_address(uintptr_t addr) {
  Record* r = record_by_stack_address(addr);
  return r ? r->id : 0;
}

extern "C" int tl_get_counters(tl_counters* out) {
  TL_REQUIRE_INIT();
  if (!out) return fail(TL_EINVAL, "tl_get_counters: out is NULL");
  reap_vanished();
  registry().reap();
  Ledger& l = ledger();
  out->records_live = l.records_live.load();
  out->records_adopted = l.records_adopted.load();
  out->stacks_mapped = l.stacks_mapped.load();
  out->stack_bytes = l.stack_bytes.load();
  out->altstacks = l.altstacks.load();
  out->slots_cached = l.slots_cached.load();
  out->adoptions_total = l.adoptions_total.load();
  out->spawns_total = l.spawns_total.load();
  out->records_cached = l.records_cached.load();
  out->records_vanished = l.records_vanished.load();
  out->thread_handles = l.thread_handles.load();
  out->cpu_ticks = g_cpu_ticks_total.load(std::memory_order_relaxed);
  return TL_OK;
}

extern "C" int tl_trim(void) {
  TL_REQUIRE_INIT();
  if (world::caller_is_stopper())
    return fail(TL_EDEADLK, "tl_trim: the calling thread holds the world stopped (trimming frees memory); trim after tl_resume_others");
  registry().reap();
  slots_trim();
  adopt_cache_trim();
  return TL_OK;
}
