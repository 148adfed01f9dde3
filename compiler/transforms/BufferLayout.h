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

struct BufferSlot {
  std::string name;            // torchvision state_dict name (`vidnet.name`)
  bool state = false;          // BN running statistics (`vidnet.state`) live in the state buffer
  std::vector<int64_t> shape;  // the compiled, channels-last shape
  int64_t offset = 0;          // in elements, from the start of its buffer
};

struct BufferLayout {
  std::vector<BufferSlot> slots;  // forward's arguments after the input, in order
  int64_t paramElements = 0;
  int64_t stateElements = 0;
};

// Lays out arguments [first, end) of a tensor-form entry point, in order: those of `forward`
// after the clip batch, and the same tensors in `train_step` (so both share one layout).
BufferLayout layoutArguments(mlir::func::FuncOp func, unsigned first, unsigned end);

// `forward`'s layout: every argument after the clip batch.
BufferLayout layoutForwardArguments(mlir::func::FuncOp forward);

} // namespace vidnet
