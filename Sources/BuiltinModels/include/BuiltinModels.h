// The built-in models' weights files, compiled into the binary with C23 #embed so that every
// build of bbans (swift run, an installed release binary, a static binary) finds them without
// any file beside it. Each entry is the exact bytes of a file in weights/.
#ifndef BBANS_BUILTIN_MODELS_H
#define BBANS_BUILTIN_MODELS_H
#include <stddef.h>

typedef struct {
  const char *name;
  const unsigned char *bytes;
  size_t size;
  /// For a retired model (one that a retrained model has replaced, kept so that its archives still
  /// decode): the name it had when it was current, which the archives made with it record.
  /// NULL for a current model.
  const char *former_name;
  /// NULL for the model the file holds. Otherwise the arithmetic ("int16") of another model made
  /// from the file's weights (docs/MODEL_FORMAT.md, "Arithmetic"): the model `bbans convert
  /// --arithmetic` writes, with the validation figures below, whose identity is the hash of the
  /// weights file that model serializes to, recorded in `identity` (the registry checks it).
  const char *arithmetic;
  double reconstruction, kl;
  unsigned long long identity;
} bbans_builtin_model;

/// The number of built-in models, current and retired.
size_t bbans_builtin_model_count(void);
/// The built-in model at `index` (0 ≤ index < count).
bbans_builtin_model bbans_builtin_model_at(size_t index);

#endif
