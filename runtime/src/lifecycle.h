// lifecycle.h — the end of a thread's life: teardown on the thread itself,
// and freeing once nothing can see the record.
//
// Invariants:
//   - thread_teardown runs on the thread the record describes, from the
//     pthread key destructor (so after other keys' destructors had their
//     chance to call back), and moves the record to EXITING then DEAD; an
//     adopted thread's stacks are retired only once it is DEAD.
//   - Adopted records are retired by teardown; spawned records by tl_join
//     (the joiner must still find them); the initial record lives forever.
//   - Freeing returns a spawned record to its slot (slot.h) and an adopted
//     one, its stacks still retired, to the adoption cache (adopt_cache.h);
//     only what those caches do not keep is unmapped and deleted.
#pragma once

namespace tl {

struct Record;

void thread_teardown(Record* r);

}  // namespace tl
