// The one map from the C enum (FRUGAL_SEL_*) to a selection's facts and its family. A new kind is
// a row here, its class in a family file, and its enum value (whose JS name, from the schema, is
// the kind's name here: schema.generated.h).
#include <string>
#include "../errors.h"
#include "../schema.generated.h"
#include "selection_state.h"

namespace frugal {

// whole_tensor.cpp
std::unique_ptr<SelectionState> make_whole_tensor_selection(const SelectionKind& kind);
bool takes_block_param(const frugal_param_desc& d);
void refresh_blocks(SelectionContext& ctx, StreamHandle s);
// lines.cpp
std::unique_ptr<SelectionState> make_line_selection(const SelectionKind& kind);
// dense_basis.cpp
std::unique_ptr<SelectionState> make_dense_basis_selection(const SelectionKind& kind);

namespace {

bool any_param(const frugal_param_desc&) { return true; }
bool matrices(const frugal_param_desc& d) { return d.ndim >= 2; }

// A kind's enum value and its name, the schema's JS name of that value.
#define KIND(C) FRUGAL_SEL_##C, FRUGAL_SELECTION_JS_NAMES[FRUGAL_SEL_##C]

// In enum order, one row per value (checked below).
// kind, chooses, caller_selection, compressed_gradient, takes_param, make, refresh_group
constexpr SelectionKind KINDS[] = {
    {KIND(ALL), false, false, false, any_param, make_whole_tensor_selection, refresh_each_param},
    {KIND(NONE), false, false, false, any_param, make_whole_tensor_selection, refresh_each_param},
    {KIND(BLOCKS), true, true, false, takes_block_param, make_whole_tensor_selection, refresh_blocks},
    {KIND(COLUMNS), true, true, true, matrices, make_line_selection, refresh_each_param},
    {KIND(ROWS), true, true, true, matrices, make_line_selection, refresh_each_param},
    {KIND(COORDINATES), true, true, false, matrices, make_line_selection, refresh_each_param},
    {KIND(SVD), true, false, false, matrices, make_dense_basis_selection, refresh_each_param},
    {KIND(RANDOM_ORTHO), true, false, false, matrices, make_dense_basis_selection, refresh_each_param},
    {KIND(RANDPERM), true, false, false, matrices, make_dense_basis_selection, refresh_each_param},
    {KIND(GRASS), true, true, true, matrices, make_line_selection, refresh_each_param},
};
#undef KIND
constexpr int KIND_COUNT = (int)(sizeof KINDS / sizeof KINDS[0]);

static_assert(KIND_COUNT == FRUGAL_SELECTION_MAX + 1, "registry.cpp: one row per frugal_selection value");
constexpr bool in_enum_order() {
  for (int i = 0; i < KIND_COUNT; ++i)
    if (KINDS[i].id != i) return false;
  return true;
}
static_assert(in_enum_order(), "registry.cpp: the rows follow frugal_selection's order");

}  // namespace

const SelectionKind* find_selection_kind(int32_t id) {
  for (const SelectionKind& k : KINDS)
    if (k.id == id) return &k;
  return nullptr;
}

const SelectionKind& selection_kind(int32_t id) {
  const SelectionKind* k = find_selection_kind(id);
  if (!k) invalid("selection: expected 0.." + std::to_string(KIND_COUNT - 1) + ", got " + std::to_string(id));
  return *k;
}

std::string selection_names_with(bool SelectionKind::*fact, const char* conjunction) {
  std::string out, last;
  for (const SelectionKind& k : KINDS) {
    if (!(k.*fact)) continue;
    if (!last.empty()) out += (out.empty() ? "" : ", ") + last;
    last = k.name;
  }
  return out.empty() ? last : out + " " + conjunction + " " + last;
}

const char* selection_name(int32_t kind) {
  const SelectionKind* k = find_selection_kind(kind);
  return k ? k->name : "unknown";
}

}  // namespace frugal
