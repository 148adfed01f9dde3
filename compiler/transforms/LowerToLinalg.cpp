// vidnet-lower-to-linalg: every vidnet op (after decomposition) to linalg on tensors, as a
// partial conversion with one pattern per op (the families' files: Lower*.cpp).
#include "compiler/transforms/LinalgBuilders.h"
#include "compiler/transforms/Passes.h"

#include "mlir/Dialect/SCF/IR/SCF.h"

namespace vidnet {
#define GEN_PASS_DEF_LOWERTOLINALG
#include "compiler/transforms/Passes.h.inc"
} // namespace vidnet

using namespace mlir;

namespace {

struct LowerToLinalg : vidnet::impl::LowerToLinalgBase<LowerToLinalg> {
  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    RewritePatternSet patterns(ctx);
    vidnet::populateConvolutionLoweringPatterns(patterns);
    vidnet::populateBatchNormLoweringPatterns(patterns);
    vidnet::populateElementwiseLoweringPatterns(patterns);
    vidnet::populateHeadLoweringPatterns(patterns);
    vidnet::populateLossLoweringPatterns(patterns);
    vidnet::populatePoolingLoweringPatterns(patterns);
    vidnet::populateReshapeLoweringPatterns(patterns);
    // Nothing of the vidnet dialect may remain; everything the patterns emit is legal.
    ConversionTarget target(*ctx);
    target.addIllegalDialect<vidnet::VidnetDialect>();
    target.addLegalDialect<arith::ArithDialect, linalg::LinalgDialect, math::MathDialect, scf::SCFDialect,
                           tensor::TensorDialect>();
    if (failed(applyPartialConversion(getOperation(), target, std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
