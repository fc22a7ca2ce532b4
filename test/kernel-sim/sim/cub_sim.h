// Host substitutes for the CUB calls the kernels make (the generator maps <cub/...> includes
// here). Only that subset exists, with CUB's documented contract, checked where a misuse would
// go unnoticed on the host; a CUB call outside it is a compile error, not a silent fallback.
#pragma once
#include <algorithm>
#include <cstring>
#include <limits>
#include <numeric>
#include <string>
#include <type_traits>
#include <vector>
#include "sim_runtime.h"

namespace cub {

// cub::BlockReduce<T, BLOCK_DIM_X>: a collective of a 1-D block of exactly BLOCK_DIM_X threads.
// Like CUB it has one barrier inside and none at the end (the caller syncs before reusing the
// storage), and the sum is defined in thread 0 only: the other threads get NaN (0 for integer
// types), so code that relied on them would fail. The sum runs in thread order, which is not
// CUB's tree order: the checks compare fp64 sums rounded to fp32, where the order does not show.
template <typename T, int BLOCK_DIM_X>
class BlockReduce {
 public:
  struct TempStorage {
    T values[BLOCK_DIM_X];
  };

  explicit BlockReduce(TempStorage& storage) : storage_(storage) {}

  T Sum(T input) {
    if (blockDim.x != (unsigned)BLOCK_DIM_X || blockDim.y != 1 || blockDim.z != 1) {
      sim::report_error("cub::BlockReduce<T, " + std::to_string(BLOCK_DIM_X) + "> used in a block of " +
                        std::to_string(blockDim.x) + "x" + std::to_string(blockDim.y) + "x" +
                        std::to_string(blockDim.z) + " threads");
    }
    const unsigned tid = threadIdx.x;
    if (tid < (unsigned)BLOCK_DIM_X) storage_.values[tid] = input;
    __syncthreads();
    if (tid != 0) {
      if constexpr (std::is_floating_point_v<T>) return std::numeric_limits<T>::quiet_NaN();
      return T();
    }
    T total = T();
    for (int i = 0; i < BLOCK_DIM_X; ++i) total += storage_.values[i];
    return total;
  }

 private:
  TempStorage& storage_;
};

// cub::DeviceRadixSort::SortPairs: stable sort of (key, value) pairs by the key bits
// [begin_bit, end_bit) (other bits are ignored for ordering, as in a radix sort), with CUB's
// two-call protocol: a null temp pointer asks for the temp size, the second call must pass that
// much device memory. Unsigned integer keys only.
struct DeviceRadixSort {
  static size_t temp_bytes_for(long long num_items) { return 512 + 8 * (size_t)(num_items > 0 ? num_items : 0); }

  template <typename KeyT, typename ValueT, typename NumItemsT>
  static cudaError_t SortPairs(void* d_temp_storage, size_t& temp_storage_bytes, const KeyT* d_keys_in,
                               KeyT* d_keys_out, const ValueT* d_values_in, ValueT* d_values_out, NumItemsT num_items,
                               int begin_bit = 0, int end_bit = sizeof(KeyT) * 8, cudaStream_t stream = nullptr) {
    static_assert(std::is_integral_v<KeyT> && std::is_unsigned_v<KeyT>, "the substitute sorts unsigned keys only");
    (void)stream;
    const long long n = (long long)num_items;
    const int key_bits = (int)sizeof(KeyT) * 8;
    if (n < 0 || begin_bit < 0 || end_bit > key_bits || begin_bit >= end_bit) {
      sim::report_error("cub::DeviceRadixSort::SortPairs: invalid item count or bit range");
      return cudaErrorInvalidValue;
    }
    if (!d_temp_storage) {
      temp_storage_bytes = temp_bytes_for(n);
      return cudaSuccess;
    }
    const bool ok = temp_storage_bytes >= temp_bytes_for(n) &&
                    sim::is_device_range(d_temp_storage, temp_bytes_for(n)) &&
                    (n == 0 || (sim::is_device_range(d_keys_in, sizeof(KeyT) * n) &&
                                sim::is_device_range(d_keys_out, sizeof(KeyT) * n) &&
                                sim::is_device_range(d_values_in, sizeof(ValueT) * n) &&
                                sim::is_device_range(d_values_out, sizeof(ValueT) * n)));
    if (!ok) {
      sim::report_error(
          "cub::DeviceRadixSort::SortPairs: temp storage smaller than queried, or a buffer that is "
          "not device memory of num_items elements");
      return cudaErrorInvalidValue;
    }
    const KeyT mask = end_bit - begin_bit >= key_bits ? std::numeric_limits<KeyT>::max()
                                                      : (KeyT)(((KeyT)1 << (end_bit - begin_bit)) - 1);
    std::vector<long long> order(n);
    std::iota(order.begin(), order.end(), 0LL);
    std::stable_sort(order.begin(), order.end(), [&](long long a, long long b) {
      return ((d_keys_in[a] >> begin_bit) & mask) < ((d_keys_in[b] >> begin_bit) & mask);
    });
    std::vector<KeyT> keys(n);
    std::vector<ValueT> values(n);
    for (long long i = 0; i < n; ++i) {
      keys[i] = d_keys_in[order[i]];
      values[i] = d_values_in[order[i]];
    }
    std::memset(d_temp_storage, 0xab, temp_bytes_for(n));  // CUB uses it; nobody may rely on its contents
    std::copy(keys.begin(), keys.end(), d_keys_out);
    std::copy(values.begin(), values.end(), d_values_out);
    return cudaSuccess;
  }
};

}  // namespace cub
