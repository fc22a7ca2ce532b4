// The per-element update rules, shared by the CPU loops and the CUDA kernels: each rule's math is
// a header in rules/, and rules/rule_table.h registers them and generates every dispatch on a
// rule id. Every step-dependent quantity (bias correction, lr) is folded into scalars on the host
// (or per slot on the device), so a kernel reads only arguments and a rule is a few flops per
// element.
#pragma once
#include "rules/rule_table.h"
