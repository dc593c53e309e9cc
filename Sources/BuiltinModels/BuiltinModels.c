#include "BuiltinModels.h"

// One #embed per file in weights/ (see docs/MODELS.md for the command that made each).
static const bbans_builtin_model models[] = {
  {0, 0, 0}  // placeholder so that the array is never empty
};

size_t bbans_builtin_model_count(void) { return sizeof(models) / sizeof(models[0]) - 1; }
bbans_builtin_model bbans_builtin_model_at(size_t index) { return models[index]; }
