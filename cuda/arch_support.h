// Which GPUs this build can run on, from the architecture list it was compiled for
// (FRUGAL_CUDA_ARCHS, passed by CMakeLists.txt as FRUGAL_CUDA_ARCH_LIST, e.g. "80-real,90").
// A GPU of compute capability M.m runs
//   - machine code (SASS, "NN" or "NN-real") built for the same major version M and a minor <= m;
//   - PTX ("NN" or "NN-virtual") built for any architecture <= M.m, which the driver compiles;
//   - "NNa" (architecture-specific) code only on exactly that architecture;
//   - "NNf" (family-specific, CUDA 12.9+) code on that architecture and the later ones of its
//     family: the same major version, minor >= its own (100f: 10.0 and 10.3).
// Without this check a GPU too old for the build passes discovery and then fails every launch
// with "no kernel image is available". "native", "all" and "all-major" count as covering every GPU.
#pragma once
#include <string>
#include <vector>

#ifndef FRUGAL_CUDA_ARCH_LIST
#define FRUGAL_CUDA_ARCH_LIST "80-real,90"
#endif

namespace frugal {
namespace cuda {

inline std::string build_arch_list() { return FRUGAL_CUDA_ARCH_LIST; }

struct BuiltArch {
  int number;      // 80 for sm_80
  bool specific;   // "90a": that architecture only
  bool family;     // "100f": same major, minor at or above
  bool sass, ptx;  // machine code, PTX
};

// false in *known when the list names no concrete architecture ("native", "all", ...).
inline std::vector<BuiltArch> built_archs(bool* known) {
  std::vector<BuiltArch> out;
  *known = true;
  const std::string list = build_arch_list();
  size_t begin = 0;
  while (begin <= list.size()) {
    size_t end = list.find_first_of(",;", begin);
    if (end == std::string::npos) end = list.size();
    const std::string item = list.substr(begin, end - begin);
    begin = end + 1;
    if (item.empty()) continue;
    size_t digits = 0;
    while (digits < item.size() && item[digits] >= '0' && item[digits] <= '9') digits++;
    if (digits == 0) {  // native, all, all-major: whatever is here
      *known = false;
      continue;
    }
    BuiltArch a{std::stoi(item.substr(0, digits)), false, false, true, true};
    std::string rest = item.substr(digits);
    if (!rest.empty() && (rest[0] == 'a' || rest[0] == 'f')) {
      (rest[0] == 'a' ? a.specific : a.family) = true;
      rest = rest.substr(1);
    }
    if (rest == "-real")
      a.ptx = false;
    else if (rest == "-virtual")
      a.sass = false;
    out.push_back(a);
  }
  if (out.empty()) *known = false;
  return out;
}

inline bool build_runs_on(int major, int minor) {
  bool known = true;
  const std::vector<BuiltArch> archs = built_archs(&known);
  if (!known) return true;
  const int cc = major * 10 + minor;
  for (const BuiltArch& a : archs) {
    if (a.specific) {
      if (a.number == cc) return true;
      continue;
    }
    if (a.family) {
      if (a.number / 10 == major && a.number <= cc) return true;
      continue;
    }
    if (a.sass && a.number / 10 == major && a.number <= cc) return true;
    if (a.ptx && a.number <= cc) return true;
  }
  return false;
}

// "sm_80": the oldest architecture in the list.
inline std::string lowest_build_arch() {
  bool known = true;
  const std::vector<BuiltArch> archs = built_archs(&known);
  int lowest = 0;
  for (const BuiltArch& a : archs)
    if (!lowest || a.number < lowest) lowest = a.number;
  return lowest ? "sm_" + std::to_string(lowest) : "the architectures of this machine";
}

}  // namespace cuda
}  // namespace frugal
