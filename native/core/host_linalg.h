// Dense linear algebra on the host, in double, for the refresh steps of dense selections: the
// exact SVD that reproduces the reference's subspaces, a randomized SVD for big matrices, and
// random orthonormal bases. Matrices are row-major.
#pragma once
#include <cstdint>
#include <vector>
#include "host_rng.h"

namespace frugal {

// Thin SVD: a = u diag(s) vt, u m x q, s q (descending), vt q x n, q = min(m, n). The Gram
// matrix of the smaller side and its symmetric eigen-decomposition, in double (host_svd.cpp).
void host_svd(const double* a, int64_t m, int64_t n, std::vector<double>& u, std::vector<double>& s,
              std::vector<double>& vt);

// The top-`rank` singular vectors exactly (host_svd's leading columns, up to sign), without the
// rest: eigenvalues of the Gram matrix's tridiagonal form, inverse iteration for the top ones.
// Left (m x rank) when want_left, else right (n x rank), as columns.
std::vector<double> host_top_singular_vectors(const double* a, int64_t m, int64_t n, int64_t rank, bool want_left);

// Top-`rank` singular vectors by a randomized range finder (oversampling 10, two power iterations):
// left (m x rank) when want_left, else right (n x rank), as columns.
std::vector<double> host_randomized_singular_vectors(const double* a, int64_t m, int64_t n, int64_t rank,
                                                     bool want_left, HostRng& rng);

// Orthonormalize the columns of a (rows x cols, row-major) in place by modified Gram-Schmidt.
void orthonormalize_columns(std::vector<double>& a, int64_t rows, int64_t cols);

}  // namespace frugal
