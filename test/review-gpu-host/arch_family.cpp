// Review harness: cuda/arch_support.h with a family-specific entry ("100f", CUDA 12.9+). Code for
// compute_100f runs on every GPU of the 10.x family at or above 10.0 (B200 10.0, B300 10.3), but
// build_runs_on treats 'f' like 'a' (that exact architecture only). Prints the verdicts.
#include <cstdio>
#include "arch_support.h"

int main() {
  const bool b200 = frugal::cuda::build_runs_on(10, 0), b300 = frugal::cuda::build_runs_on(10, 3),
             h100 = frugal::cuda::build_runs_on(9, 0);
  std::printf("10.0 %s, 10.3 %s, 9.0 %s\n", b200 ? "runs" : "refused", b300 ? "runs" : "refused",
              h100 ? "runs" : "refused");
  return 0;
}
