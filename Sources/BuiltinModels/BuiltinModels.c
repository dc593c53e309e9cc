#include "BuiltinModels.h"

// The weights files in weights/, compiled in with C23 #embed, so that every build of bbans
// (swift run, an installed release binary, a static binary) has them without a file beside it.
// docs/MODELS.md gives the command that made each one and its figures.
//
// A retired model (weights/retired/) is one that an earlier build had under another name (the
// name before its "-vN") and that a retrained model has replaced: it is kept, byte for byte, so
// that the archives written with it still decode (the decompressor finds it by the hash the
// archive records), but it is not listed by `bbans models` nor chosen from the data.
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

static const unsigned char mnist_v1[] = {
#embed "weights/retired/mnist-v1.bbm"
};
static const unsigned char mnist_binary_v1[] = {
#embed "weights/retired/mnist-binary-v1.bbm"
};
static const unsigned char fashion_mnist_v1[] = {
#embed "weights/retired/fashion-mnist-v1.bbm"
};

// The current models first, then the retired ones, each with the name it had when current.
static const bbans_builtin_model models[] = {
  {"mnist", mnist, sizeof(mnist), NULL},
  {"mnist-binary", mnist_binary, sizeof(mnist_binary), NULL},
  {"fashion-mnist", fashion_mnist, sizeof(fashion_mnist), NULL},
  {"mnist-plain", mnist_plain, sizeof(mnist_plain), NULL},
  {"mnist-binary-plain", mnist_binary_plain, sizeof(mnist_binary_plain), NULL},
  {"fashion-mnist-plain", fashion_mnist_plain, sizeof(fashion_mnist_plain), NULL},
  {"mnist-v1", mnist_v1, sizeof(mnist_v1), "mnist"},
  {"mnist-binary-v1", mnist_binary_v1, sizeof(mnist_binary_v1), "mnist-binary"},
  {"fashion-mnist-v1", fashion_mnist_v1, sizeof(fashion_mnist_v1), "fashion-mnist"},
};

size_t bbans_builtin_model_count(void) { return sizeof(models) / sizeof(models[0]); }
bbans_builtin_model bbans_builtin_model_at(size_t index) { return models[index]; }
