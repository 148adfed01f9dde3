// Where each parameter and state tensor of `forward` lives in the two flat f32 buffers the
// compiled entry points take. The ABI pass and the bundle manifest both read it from here.
#pragma once

#include "mlir/Dialect/Func/IR/FuncOps.h"

#include <cstdint>
#include <string>
#include <vector>

namespace vidnet {

// 16 floats = 64 bytes: every tensor starts on its own cache line and AVX-512 vector.
constexpr int64_t kBufferAlignment = 16;

// On the trailing arguments of `forward` that vidnet-cpu-hoist-weight-packing added: tensors
// that `forward_prepare` computes from the weights, passed in the third flat buffer.
inline constexpr const char *kPreparedAttr = "vidnet.prepared";
// The function that computes them: forward's weight arguments in, the prepared tensors out.
inline constexpr const char *kForwardPrepareName = "forward_prepare";

struct BufferSlot {
  std::string name;            // torchvision state_dict name (`vidnet.name`)
  bool state = false;          // BN running statistics (`vidnet.state`) live in the state buffer
  std::vector<int64_t> shape;  // the compiled, channels-last shape
  int64_t offset = 0;          // in elements, from the start of its buffer
};

struct BufferLayout {
  std::vector<BufferSlot> slots;  // forward's weight arguments after the input, in order
  int64_t paramElements = 0;
  int64_t stateElements = 0;
};

// Lays out arguments [first, end) of a tensor-form entry point, in order: those of `forward`
// after the clip batch, and the same tensors in `train_step` (so both share one layout).
BufferLayout layoutArguments(mlir::func::FuncOp func, unsigned first, unsigned end);

// `forward`'s layout: every argument after the clip batch up to the prepared ones.
BufferLayout layoutForwardArguments(mlir::func::FuncOp forward);
// The first of `forward`'s prepared arguments (its argument count when there are none).
unsigned firstPreparedArgument(mlir::func::FuncOp forward);

} // namespace vidnet
