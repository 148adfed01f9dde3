// What elaboration's two phases share: the statements as phase 1 checked them, and phase 2,
// which expands them into layers. Internal to compiler/ (Elaborate.h is the interface).
#pragma once

#include "compiler/ModelGraph.h"
#include "dsl/AST.h"
#include "dsl/Diagnostics.h"

#include <optional>
#include <vector>

namespace vidnet::elab {

// A stage's residual block: basic (two t x d x d convs) or a bottleneck (1x1x1 to `ch`, a
// middle conv, 1x1x1 to 4 ch) whose middle is a full conv, depthwise (ir-CSN) or 1x1x1 + BN +
// depthwise (ip-CSN).
// P3D's blocks (Qiu et al. 2017) split the middle into S = 1 x d x d and T = t x 1 x 1: A is
// T(S(x)), B is S(x) + T(x), C is S(x) + T(S(x)); P3dCycle takes A, B, C in turn by the block's
// index over the whole network, as P3D-199 does.
enum class BlockKind { Basic, Bottleneck, IrCsn, IpCsn, P3dA, P3dB, P3dC, P3dCycle };

// A conv statement (stem or stage) after its options were checked.
struct ConvStatement {
  const dsl::Statement *stmt = nullptr;
  dsl::ConvKind kind = dsl::ConvKind::Conv3d;
  int64_t t = 1, d = 1, ch = 0;
  Dims3 stride, pad;
  std::vector<int64_t> mid;  // empty: the paper's formula per conv
  bool fold = false;
  int64_t blocks = 1;
  BlockKind block = BlockKind::Basic;
  int64_t groups = 1;  // of the basic block's convs, of the bottleneck's middle conv
};

// A `pool max` statement after its options were checked.
struct PoolStatement {
  const dsl::Statement *stmt = nullptr;
  Dims3 kernel, stride, pad;
};

// What follows the stem, in file order: a stage of blocks or a max pool.
struct BodyItem {
  std::optional<ConvStatement> stage;
  std::optional<PoolStatement> pool;
};

// Phase 2: the layers of the checked statements with their shapes, parameters and MACs and
// torchvision's names. False after reporting a shape, divisibility or overflow error.
bool buildGraph(ModelGraph &graph, dsl::Loc headLoc, const ConvStatement &stem, const std::vector<BodyItem> &body,
                dsl::DiagnosticEngine &diags);

} // namespace vidnet::elab
