// ops.cpp — the op table: one OpInfo per TL_FUZZ_OPS line, looked up by
// kind (index) or by text name.
#include <threadlab/fuzz/program.h>

namespace threadlab::fuzz {
namespace {

#define TL_FUZZ_OP_INFO_(E, name, def, operand, num, body) \
  OpInfo{OpKind::E, name, Res::def, Operand::operand, num, body},
constexpr OpInfo kOps[] = {TL_FUZZ_OPS(TL_FUZZ_OP_INFO_)};
#undef TL_FUZZ_OP_INFO_
static_assert(sizeof(kOps) / sizeof(kOps[0]) == kOpKinds);

}  // namespace

const OpInfo& op_info(OpKind k) { return kOps[static_cast<unsigned>(k) % kOpKinds]; }

const OpInfo* op_by_name(std::string_view name) {
  for (const OpInfo& o : kOps)
    if (name == o.name) return &o;
  return nullptr;
}

}  // namespace threadlab::fuzz
