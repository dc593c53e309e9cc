// What the kernel files (dense.c, int16.c, made.c) share: Float vector types, loads and stores
// at any alignment, forced inlining, and the level a call runs at. Private to CDense.
#ifndef BBANS_CDENSE_KERNEL_H
#define BBANS_CDENSE_KERNEL_H
#include "CDense.h"

#include <string.h>

typedef float v4f __attribute__((vector_size(16)));
typedef float v8f __attribute__((vector_size(32)));
typedef float v16f __attribute__((vector_size(64)));

#define ALWAYS_INLINE static inline __attribute__((always_inline))

// Loads and stores at any alignment (memcpy of a constant size becomes one instruction);
// macros rather than functions, so that no vector crosses a function boundary.
#define LOAD(VT, destination, pointer) memcpy(&(destination), (pointer), sizeof(VT))
#define STORE(VT, pointer, source) memcpy((pointer), &(source), sizeof(VT))

// A requested level, lowered to what the CPU supports.
ALWAYS_INLINE int supported_level_at_most(int level) {
  const int supported = bbans_dense_supported_level();
  return level > supported ? supported : level;
}

#endif
