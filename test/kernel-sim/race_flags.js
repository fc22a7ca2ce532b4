// Compiler flags that let the race detector (sim/race_detector.cpp) see every load and store of
// the translated kernel units: GCC's ThreadSanitizer instrumentation, whose calls
// (__tsan_read4(addr), __tsan_write16(addr), ...) the simulator defines; no TSan runtime is linked.
// TSan and ASan exclude each other in one unit, so these units drop -fsanitize=address; the
// callbacks do AddressSanitizer's check instead, and shared and device memory live on the heap,
// where its redzones are.
'use strict';

const RACE_DETECTOR_FLAGS = ['-fno-sanitize=address', '-fsanitize=thread'];

module.exports = { RACE_DETECTOR_FLAGS };
