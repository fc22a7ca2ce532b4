// The one map from the C enum (FRUGAL_SEL_*) to a selection's facts and its family. A new kind is
// a row here, its class in a family file, and its enum value.
#include <string>
#include "../errors.h"
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

// In enum order.
// id, name, chooses, caller_selection, compressed_gradient, takes_param, make, refresh_group
const SelectionKind KINDS[] = {
    {FRUGAL_SEL_ALL, "all", false, false, false, any_param, make_whole_tensor_selection, refresh_each_param},
    {FRUGAL_SEL_NONE, "none", false, false, false, any_param, make_whole_tensor_selection, refresh_each_param},
    {FRUGAL_SEL_BLOCKS, "blocks", true, true, false, takes_block_param, make_whole_tensor_selection, refresh_blocks},
    {FRUGAL_SEL_COLUMNS, "columns", true, true, true, matrices, make_line_selection, refresh_each_param},
    {FRUGAL_SEL_ROWS, "rows", true, true, true, matrices, make_line_selection, refresh_each_param},
    {FRUGAL_SEL_COORDINATES, "coordinates", true, true, false, matrices, make_line_selection, refresh_each_param},
    {FRUGAL_SEL_SVD, "svd", true, false, false, matrices, make_dense_basis_selection, refresh_each_param},
    {FRUGAL_SEL_RANDOM_ORTHO, "random", true, false, false, matrices, make_dense_basis_selection, refresh_each_param},
    {FRUGAL_SEL_RANDPERM, "randperm", true, false, false, matrices, make_dense_basis_selection, refresh_each_param},
    {FRUGAL_SEL_GRASS, "grass", true, true, true, matrices, make_line_selection, refresh_each_param},
};
constexpr int KIND_COUNT = (int)(sizeof KINDS / sizeof KINDS[0]);

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
