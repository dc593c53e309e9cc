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

static const unsigned char mnist_binary_plain_v1[] = {
#embed "weights/retired/mnist-binary-plain-v1.bbm"
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
static const unsigned char fashion_mnist_v2[] = {
#embed "weights/retired/fashion-mnist-v2.bbm"
};
static const unsigned char mnist_v2[] = {
#embed "weights/retired/mnist-v2.bbm"
};
// The Float weights file of fashion-mnist-v4 (its int16 form); never a built-in model itself.
static const unsigned char fashion_mnist_v4_float32[] = {
#embed "weights/retired/fashion-mnist-v4.float32.bbm"
};

// The current models first, then the retired ones, each with the name it had when current.
//
// The current models compute their encoders and decoders with int16 arithmetic (issue 18,
// docs/MODEL_FORMAT.md "Arithmetic"): each is made from the Float weights file beside it, as
// `bbans convert NAME --arithmetic int16 --name NAME --builtin-name --validation-data DATA
// --last 10000` writes it (DATA: MNIST's or Fashion-MNIST's training images; the figures are
// that command's validation on their last 10,000), with the identity of that file. The Float
// models of those files are retired as NAME-v2 (the row-summary models; v1 was the model before
// them) or NAME-v1 (the plain ones), byte for byte, so that every archive made with them still
// decodes.
#define INT16(NAME, BYTES, RECONSTRUCTION, KL, IDENTITY) \
  {NAME, BYTES, sizeof(BYTES), NULL, "int16", RECONSTRUCTION, KL, IDENTITY}
#define RETIRED_INT16(NAME, BYTES, FORMER, RECONSTRUCTION, KL, IDENTITY) \
  {NAME, BYTES, sizeof(BYTES), FORMER, "int16", RECONSTRUCTION, KL, IDENTITY}
#define FILE_MODEL(NAME, BYTES, FORMER) {NAME, BYTES, sizeof(BYTES), FORMER, NULL, 0, 0, 0}
static const bbans_builtin_model models[] = {
  // mnist-v2 with a second hidden layer of 64 units in its per-pixel network, trained further
  // (docs/MODELS.md, "Depth and width").
  INT16("mnist", mnist, 1.102671677837598, 0.012909966913122437, 0x4b1be90251b4130bull),
  INT16("mnist-binary", mnist_binary, 0.1418607713323723, 0.014031097433947001, 0x043d6470be384031ull),
  // fashion-mnist-v4 with a second hidden layer of 64 units in its per-pixel network, trained
  // further (docs/MODELS.md, "Depth and width").
  INT16("fashion-mnist", fashion_mnist, 2.8731471878608343, 0.023319144642893527, 0xbc801b6cbb21b147ull),
  INT16("mnist-plain", mnist_plain, 1.2934442044126686, 0.08444434596133249, 0x3ceb06ca04970888ull),
  // An IAF posterior (issue 17, docs/MODELS.md "Flow posteriors"): iaf:4,100.
  INT16("mnist-binary-plain", mnist_binary_plain, 0.13485695068282091, 0.042216750884309706, 0x3e5065eb35c3575cull),
  INT16("fashion-mnist-plain", fashion_mnist_plain, 3.5029182152412495, 0.07233639517981709, 0x6650af4070d329edull),
  FILE_MODEL("mnist-v1", mnist_v1, "mnist"),
  FILE_MODEL("mnist-binary-v1", mnist_binary_v1, "mnist-binary"),
  FILE_MODEL("fashion-mnist-v1", fashion_mnist_v1, "fashion-mnist"),
  FILE_MODEL("mnist-v2", mnist_v2, "mnist"),
  FILE_MODEL("mnist-binary-v2", mnist_binary, "mnist-binary"),
  FILE_MODEL("fashion-mnist-v2", fashion_mnist_v2, "fashion-mnist"),
  FILE_MODEL("mnist-plain-v1", mnist_plain, "mnist-plain"),
  FILE_MODEL("mnist-binary-plain-v1", mnist_binary_plain_v1, "mnist-binary-plain"),
  FILE_MODEL("fashion-mnist-plain-v1", fashion_mnist_plain, "fashion-mnist-plain"),
  // The int16 form of mnist-binary-plain-v1, current until the model with an IAF posterior replaced it.
  RETIRED_INT16("mnist-binary-plain-v2", mnist_binary_plain_v1, "mnist-binary-plain", 0.14266612742915957,
                0.042500369743221474, 0x08e9feebfeb4278bull),
  // The int16 form of fashion-mnist-v2, current until the model trained 10 epochs further replaced it.
  RETIRED_INT16("fashion-mnist-v3", fashion_mnist_v2, "fashion-mnist", 2.919194015581411, 0.021842384068642477,
                0x60c6ccbfd4a3a2d6ull),
  // The int16 fashion-mnist trained 10 epochs further from fashion-mnist-v2, current until the
  // model with a deeper per-pixel network replaced it.
  RETIRED_INT16("fashion-mnist-v4", fashion_mnist_v4_float32, "fashion-mnist", 2.907946301097914,
                0.022703120666965927, 0x03e7e3341a369b86ull),
  // The int16 form of mnist-v2, current until the model with a deeper per-pixel network replaced it.
  RETIRED_INT16("mnist-v3", mnist_v2, "mnist", 1.1194373736729568, 0.012855927414675904, 0xb3bb43939d644ed5ull),
};

size_t bbans_builtin_model_count(void) { return sizeof(models) / sizeof(models[0]); }
bbans_builtin_model bbans_builtin_model_at(size_t index) { return models[index]; }
