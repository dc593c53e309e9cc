#include "BuiltinModels.h"

// The weights files in weights/, compiled in with C23 #embed, so that every build of bbans
// (swift run, an installed release binary, a static binary) has them without a file beside it.
// docs/MODELS.md gives the command that made each one and its figures.
#pragma clang diagnostic ignored "-Wc23-extensions"

static const unsigned char mnist[] = {
#embed "weights/mnist.bbm"
};
static const unsigned char mnist_binary[] = {
#embed "weights/mnist-binary.bbm"
};
static const unsigned char fashion_mnist[] = {
#embed "weights/fashion-mnist.bbm"
};
static const unsigned char mnist_plain[] = {
#embed "weights/mnist-plain.bbm"
};
static const unsigned char mnist_binary_plain[] = {
#embed "weights/mnist-binary-plain.bbm"
};
static const unsigned char fashion_mnist_plain[] = {
#embed "weights/fashion-mnist-plain.bbm"
};

static const bbans_builtin_model models[] = {
  {"mnist", mnist, sizeof(mnist)},
  {"mnist-binary", mnist_binary, sizeof(mnist_binary)},
  {"fashion-mnist", fashion_mnist, sizeof(fashion_mnist)},
  {"mnist-plain", mnist_plain, sizeof(mnist_plain)},
  {"mnist-binary-plain", mnist_binary_plain, sizeof(mnist_binary_plain)},
  {"fashion-mnist-plain", fashion_mnist_plain, sizeof(fashion_mnist_plain)},
};

size_t bbans_builtin_model_count(void) { return sizeof(models) / sizeof(models[0]); }
bbans_builtin_model bbans_builtin_model_at(size_t index) { return models[index]; }
