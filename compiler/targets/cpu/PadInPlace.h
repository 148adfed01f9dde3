// What vidnet-cpu-pad-in-place needs of a padded tensor's producer, for the passes before it that
// decide whether to copy a tensor before padding it.
#pragma once

#include "mlir/IR/Value.h"

namespace vidnet::cpu {

// The tensor.empty init that the ops producing `source` write into, when there is one: its
// contents are undefined, so any tensor of its shape may take its place (the padded tensor,
// whose interior the producer then writes). The chain runs through ops that continue another's
// writes into the same tensor, where that tensor has no other reader (vidnet-cpu-tile-convs'
// second lane block: F = 144 is a forall of 32-lane tiles, then one of 16-lane tiles into its
// result).
mlir::OpOperand *emptyInitOf(mlir::Value source);

} // namespace vidnet::cpu
