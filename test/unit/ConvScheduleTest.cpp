// chooseConvSchedule on the convs of r3d_18, mc3_18 and torchvision r2plus1d_18 (3x8x112x112
// clips, batch 2) for AVX2 and AVX-512: the decisions that vidnet-cpu-tile-convs emits for them,
// so that a change of any decision fails here. The table's lines are what print-schedules printed
// for the convs that reach the pass (the forwards, and the train steps' reduction-outer data
// gradients); the tests after it name the decisions one by one.
#include "compiler/targets/cpu/ConvSchedule.h"

#include <gtest/gtest.h>

using namespace vidnet::cpu;

namespace {

const VectorTarget kAvx2 = VectorTarget::forBits(256);
const VectorTarget kAvx512 = VectorTarget::forBits(512);

// A conv of `input` (N, D, H, W, C, already zero-padded by (k - 1) / 2 rows on each side of each
// axis, as vidnet-lower-to-linalg pads the models' convs) with `kernel`, `strides` and F output
// channels, starting from zeros.
ConvProblem conv(std::array<int64_t, 5> input, std::array<int64_t, 3> kernel, std::array<int64_t, 3> strides,
                 int64_t F, bool startsFromZero = true) {
  ConvProblem p;
  p.input = input;
  p.filter = {kernel[0], kernel[1], kernel[2], input[4], F};
  p.strides = strides;
  p.output = {input[0], 0, 0, 0, F};
  for (int i = 0; i < 3; ++i) {
    p.output[i + 1] = (input[i + 1] - kernel[i]) / strides[i] + 1;
    p.axes.low[i] = (kernel[i] - 1) / 2;
    p.axes.extent[i] = input[i + 1] - 2 * p.axes.low[i];
    p.axes.padded[i] = p.axes.low[i] > 0;
  }
  p.startsFromZero = startsFromZero;
  return p;
}

struct Case {
  const char *conv; // the model and the conv's role
  int64_t vectorBits;
  std::array<int64_t, 5> input;
  std::array<int64_t, 3> kernel, strides;
  int64_t F;
  const char *schedule; // describe() of the schedule
};

const Case kCases[] = {
    {"r3d_18 conv", 256, {2, 10, 118, 118, 3}, {3, 7, 7}, {1, 2, 2}, 64,
     "conv 2x10x118x118x3 * 3x7x7 /1x2x2 -> 2x8x56x56x64: ctile 3 from-zero epilogue filter-inner; [rows lanes 0+64/16 cols 0+54/6 items 3584] [row-pairs lanes 0+64/16 cols 54+2/2 items 1792]"},
    {"r3d_18 conv", 256, {2, 10, 58, 58, 64}, {3, 3, 3}, {2, 2, 2}, 128,
     "conv 2x10x58x58x64 * 3x3x3 /2x2x2 -> 2x4x28x28x128: ctile 8 packed d0+3 h0+3 from-zero epilogue; [rows lanes 0+128/16 cols 0+24/6 items 1792] [rows lanes 0+128/16 cols 24+4/4 items 1792]"},
    {"r3d_18 conv", 256, {2, 8, 56, 56, 64}, {1, 1, 1}, {2, 2, 2}, 128,
     "conv 2x8x56x56x64 * 1x1x1 /2x2x2 -> 2x4x28x28x128: ctile 8 from-zero epilogue filter-inner prefetch-input; [rows lanes 0+128/16 cols 0+24/6 items 1792 writes-sums] [rows lanes 0+128/16 cols 24+4/4 items 1792 writes-sums]"},
    {"r3d_18 conv", 256, {2, 6, 30, 30, 128}, {3, 3, 3}, {2, 2, 2}, 256,
     "conv 2x6x30x30x128 * 3x3x3 /2x2x2 -> 2x2x14x14x256: ctile 8 packed d0+3 h0+3 from-zero epilogue; [rows lanes 0+256/16 cols 0+12/6 items 896] [row-pairs lanes 0+256/16 cols 12+2/2 items 448]"},
    {"r3d_18 conv", 256, {2, 4, 28, 28, 128}, {1, 1, 1}, {2, 2, 2}, 256,
     "conv 2x4x28x28x128 * 1x1x1 /2x2x2 -> 2x2x14x14x256: ctile 8 from-zero epilogue filter-inner prefetch-input; [rows lanes 0+256/16 cols 0+12/6 items 896 writes-sums] [row-pairs lanes 0+256/16 cols 12+2/2 items 448]"},
    {"r3d_18 conv", 256, {2, 4, 16, 16, 256}, {3, 3, 3}, {2, 2, 2}, 512,
     "conv 2x4x16x16x256 * 3x3x3 /2x2x2 -> 2x1x7x7x512: ctile 8 flat 5 packed d1+2 h0+3 from-zero epilogue; [flat lanes 0+512/16 cols 0+7/7 items 64 edges 0]"},
    {"r3d_18 conv", 256, {2, 3, 9, 9, 512}, {3, 3, 3}, {1, 1, 1}, 512,
     "conv 2x3x9x9x512 * 3x3x3 /1x1x1 -> 2x1x7x7x512: ctile 8 flat 6 packed d1+1 h0+3 from-zero epilogue; [flat lanes 0+512/16 cols 0+7/7 items 64 edges 0]"},
    {"r3d_18 conv", 256, {2, 2, 14, 14, 256}, {1, 1, 1}, {2, 2, 2}, 512,
     "conv 2x2x14x14x256 * 1x1x1 /2x2x2 -> 2x1x7x7x512: ctile 8 flat 5 packed d0+1 h0+1 from-zero epilogue; [flat lanes 0+512/16 cols 0+7/7 items 64]"},
    {"r3d_18 conv", 512, {2, 10, 118, 118, 3}, {3, 7, 7}, {1, 2, 2}, 64,
     "conv 2x10x118x118x3 * 3x7x7 /1x2x2 -> 2x8x56x56x64: ctile 3 wide 4 from-zero epilogue filter-inner; [rows lanes 0+64/64 cols 0+56/4 items 896]"},
    {"r3d_18 conv", 512, {2, 10, 58, 58, 64}, {3, 3, 3}, {2, 2, 2}, 128,
     "conv 2x10x58x58x64 * 3x3x3 /2x2x2 -> 2x4x28x28x128: ctile 8 wide 4 packed d0+3 h0+3 from-zero epilogue; [rows lanes 0+128/64 cols 0+28/4 items 448]"},
    {"r3d_18 conv", 512, {2, 8, 56, 56, 64}, {1, 1, 1}, {2, 2, 2}, 128,
     "conv 2x8x56x56x64 * 1x1x1 /2x2x2 -> 2x4x28x28x128: ctile 8 wide 4 from-zero epilogue filter-inner prefetch-input; [rows lanes 0+128/64 cols 0+28/4 items 448 writes-sums]"},
    {"r3d_18 conv", 512, {2, 6, 30, 30, 128}, {3, 3, 3}, {2, 2, 2}, 256,
     "conv 2x6x30x30x128 * 3x3x3 /2x2x2 -> 2x2x14x14x256: ctile 8 packed d0+3 h0+3 from-zero epilogue; [rows lanes 0+256/32 cols 0+14/7 items 448]"},
    {"r3d_18 conv", 512, {2, 4, 16, 16, 256}, {3, 3, 3}, {1, 1, 1}, 256,
     "conv 2x4x16x16x256 * 3x3x3 /1x1x1 -> 2x2x14x14x256: ctile 8 packed d0+3 h0+3 from-zero epilogue; [rows lanes 0+256/32 cols 0+14/7 items 448 edges 0,1]"},
    {"r3d_18 conv", 512, {2, 4, 28, 28, 128}, {1, 1, 1}, {2, 2, 2}, 256,
     "conv 2x4x28x28x128 * 1x1x1 /2x2x2 -> 2x2x14x14x256: ctile 8 wide 4 from-zero epilogue filter-inner prefetch-input; [rows lanes 0+256/64 cols 0+12/6 items 224 writes-sums] [row-pairs lanes 0+256/64 cols 12+2/2 items 112]"},
    {"r3d_18 conv", 512, {2, 4, 16, 16, 256}, {3, 3, 3}, {2, 2, 2}, 512,
     "conv 2x4x16x16x256 * 3x3x3 /2x2x2 -> 2x1x7x7x512: ctile 8 flat 13 packed d1+2 h0+3 from-zero epilogue; [flat lanes 0+512/32 cols 0+7/7 items 32 edges 0]"},
    {"r3d_18 conv", 512, {2, 3, 9, 9, 512}, {3, 3, 3}, {1, 1, 1}, 512,
     "conv 2x3x9x9x512 * 3x3x3 /1x1x1 -> 2x1x7x7x512: ctile 8 flat 14 packed d1+1 h0+3 from-zero epilogue; [flat lanes 0+512/32 cols 0+7/7 items 32 edges 0]"},
    {"r3d_18 conv", 512, {2, 2, 14, 14, 256}, {1, 1, 1}, {2, 2, 2}, 512,
     "conv 2x2x14x14x256 * 1x1x1 /2x2x2 -> 2x1x7x7x512: ctile 8 flat 13 packed d0+1 h0+1 from-zero epilogue; [flat lanes 0+512/32 cols 0+7/7 items 32]"},
    {"mc3_18 conv", 256, {2, 8, 58, 58, 64}, {1, 3, 3}, {1, 2, 2}, 128,
     "conv 2x8x58x58x64 * 1x3x3 /1x2x2 -> 2x8x28x28x128: ctile 8 packed d0+1 h0+3 from-zero epilogue; [rows lanes 0+128/16 cols 0+24/6 items 3584] [rows lanes 0+128/16 cols 24+4/4 items 3584]"},
    {"mc3_18 conv", 256, {2, 8, 56, 56, 64}, {1, 1, 1}, {1, 2, 2}, 128,
     "conv 2x8x56x56x64 * 1x1x1 /1x2x2 -> 2x8x28x28x128: ctile 8 from-zero epilogue filter-inner prefetch-input; [rows lanes 0+128/16 cols 0+24/6 items 3584 writes-sums] [rows lanes 0+128/16 cols 24+4/4 items 3584 writes-sums]"},
    {"mc3_18 conv", 256, {2, 8, 30, 30, 128}, {1, 3, 3}, {1, 2, 2}, 256,
     "conv 2x8x30x30x128 * 1x3x3 /1x2x2 -> 2x8x14x14x256: ctile 8 packed d0+1 h0+3 from-zero epilogue; [rows lanes 0+256/16 cols 0+12/6 items 3584] [row-pairs lanes 0+256/16 cols 12+2/2 items 1792]"},
    {"mc3_18 conv", 256, {2, 8, 28, 28, 128}, {1, 1, 1}, {1, 2, 2}, 256,
     "conv 2x8x28x28x128 * 1x1x1 /1x2x2 -> 2x8x14x14x256: ctile 8 from-zero epilogue filter-inner prefetch-input; [rows lanes 0+256/16 cols 0+12/6 items 3584 writes-sums] [row-pairs lanes 0+256/16 cols 12+2/2 items 1792]"},
    {"mc3_18 conv", 256, {2, 8, 16, 16, 256}, {1, 3, 3}, {1, 2, 2}, 512,
     "conv 2x8x16x16x256 * 1x3x3 /1x2x2 -> 2x8x7x7x512: ctile 8 flat 5 packed d0+1 h0+3 from-zero epilogue; [flat lanes 0+512/16 cols 0+7/7 items 512 edges 0]"},
    {"mc3_18 conv", 256, {2, 8, 9, 9, 512}, {1, 3, 3}, {1, 1, 1}, 512,
     "conv 2x8x9x9x512 * 1x3x3 /1x1x1 -> 2x8x7x7x512: ctile 8 flat 6 packed d0+1 h0+3 from-zero epilogue; [flat lanes 0+512/16 cols 0+7/7 items 512 edges 0]"},
    {"mc3_18 conv", 256, {2, 8, 14, 14, 256}, {1, 1, 1}, {1, 2, 2}, 512,
     "conv 2x8x14x14x256 * 1x1x1 /1x2x2 -> 2x8x7x7x512: ctile 8 flat 5 packed d0+1 h0+1 from-zero epilogue; [flat lanes 0+512/16 cols 0+7/7 items 512]"},
    {"mc3_18 conv", 512, {2, 8, 58, 58, 64}, {1, 3, 3}, {1, 2, 2}, 128,
     "conv 2x8x58x58x64 * 1x3x3 /1x2x2 -> 2x8x28x28x128: ctile 8 wide 4 packed d0+1 h0+3 from-zero epilogue; [rows lanes 0+128/64 cols 0+28/4 items 896]"},
    {"mc3_18 conv", 512, {2, 8, 56, 56, 64}, {1, 1, 1}, {1, 2, 2}, 128,
     "conv 2x8x56x56x64 * 1x1x1 /1x2x2 -> 2x8x28x28x128: ctile 8 wide 4 from-zero epilogue filter-inner prefetch-input; [rows lanes 0+128/64 cols 0+28/4 items 896 writes-sums]"},
    {"mc3_18 conv", 512, {2, 8, 30, 30, 128}, {1, 3, 3}, {1, 2, 2}, 256,
     "conv 2x8x30x30x128 * 1x3x3 /1x2x2 -> 2x8x14x14x256: ctile 8 wide 4 packed d0+1 h0+3 from-zero epilogue; [rows lanes 0+256/64 cols 0+12/6 items 896] [row-pairs lanes 0+256/64 cols 12+2/2 items 448]"},
    {"mc3_18 conv", 512, {2, 8, 28, 28, 128}, {1, 1, 1}, {1, 2, 2}, 256,
     "conv 2x8x28x28x128 * 1x1x1 /1x2x2 -> 2x8x14x14x256: ctile 8 wide 4 from-zero epilogue filter-inner prefetch-input; [rows lanes 0+256/64 cols 0+12/6 items 896 writes-sums] [row-pairs lanes 0+256/64 cols 12+2/2 items 448]"},
    {"mc3_18 conv", 512, {2, 8, 16, 16, 256}, {1, 3, 3}, {1, 2, 2}, 512,
     "conv 2x8x16x16x256 * 1x3x3 /1x2x2 -> 2x8x7x7x512: ctile 8 flat 13 packed d0+1 h0+3 from-zero epilogue; [flat lanes 0+512/32 cols 0+7/7 items 256 edges 0]"},
    {"mc3_18 conv", 512, {2, 8, 9, 9, 512}, {1, 3, 3}, {1, 1, 1}, 512,
     "conv 2x8x9x9x512 * 1x3x3 /1x1x1 -> 2x8x7x7x512: ctile 8 flat 14 packed d0+1 h0+3 from-zero epilogue; [flat lanes 0+512/32 cols 0+7/7 items 256 edges 0]"},
    {"mc3_18 conv", 512, {2, 8, 14, 14, 256}, {1, 1, 1}, {1, 2, 2}, 512,
     "conv 2x8x14x14x256 * 1x1x1 /1x2x2 -> 2x8x7x7x512: ctile 8 flat 13 packed d0+1 h0+1 from-zero epilogue; [flat lanes 0+512/32 cols 0+7/7 items 256]"},
    {"r2plus1d_18 conv", 256, {2, 8, 118, 118, 3}, {1, 7, 7}, {1, 2, 2}, 45,
     "conv 2x8x118x118x3 * 1x7x7 /1x2x2 -> 2x8x56x56x45: ctile 3 F 45->48 wide 3 from-zero filter-inner; [rows lanes 0+48/24 cols 0+56/4 items 1792]"},
    {"r2plus1d_18 conv", 256, {2, 10, 56, 56, 45}, {3, 1, 1}, {1, 1, 1}, 64,
     "conv 2x10x56x56x45 * 3x1x1 /1x1x1 -> 2x8x56x56x64: ctile 5 from-zero epilogue filter-inner prefetch-input; [rows lanes 0+64/16 cols 0+54/6 items 3584] [row-pairs lanes 0+64/16 cols 54+2/2 items 1792]"},
    {"r2plus1d_18 conv", 256, {2, 10, 56, 56, 144}, {3, 1, 1}, {1, 1, 1}, 64,
     "conv 2x10x56x56x144 * 3x1x1 /1x1x1 -> 2x8x56x56x64: ctile 8 from-zero epilogue filter-inner prefetch-input; [rows lanes 0+64/16 cols 0+54/6 items 3584] [row-pairs lanes 0+64/16 cols 54+2/2 items 1792]"},
    {"r2plus1d_18 conv", 256, {2, 8, 58, 58, 64}, {1, 3, 3}, {1, 2, 2}, 230,
     "conv 2x8x58x58x64 * 1x3x3 /1x2x2 -> 2x8x28x28x230: ctile 8 F 230->232 from-zero; [rows lanes 0+224/16 cols 0+24/6 items 6272] [rows lanes 224+8/8 cols 0+24/6 items 448] [rows lanes 0+224/16 cols 24+4/4 items 6272] [rows lanes 224+8/8 cols 24+4/4 items 448]"},
    {"r2plus1d_18 conv", 256, {2, 10, 28, 28, 230}, {3, 1, 1}, {2, 1, 1}, 128,
     "conv 2x10x28x28x230 * 3x1x1 /2x1x1 -> 2x4x28x28x128: ctile 5 packed d0+3 h0+1 from-zero epilogue prefetch-input; [rows lanes 0+128/16 cols 0+24/6 items 1792] [rows lanes 0+128/16 cols 24+4/4 items 1792]"},
    {"r2plus1d_18 conv", 256, {2, 4, 30, 30, 128}, {1, 3, 3}, {1, 1, 1}, 230,
     "conv 2x4x30x30x128 * 1x3x3 /1x1x1 -> 2x4x28x28x230: ctile 8 F 230->232 from-zero; [rows lanes 0+224/16 cols 0+24/6 items 3136] [rows lanes 224+8/8 cols 0+24/6 items 224] [rows lanes 0+224/16 cols 24+4/4 items 3136] [rows lanes 224+8/8 cols 24+4/4 items 224]"},
    {"r2plus1d_18 conv", 256, {2, 6, 28, 28, 230}, {3, 1, 1}, {1, 1, 1}, 128,
     "conv 2x6x28x28x230 * 3x1x1 /1x1x1 -> 2x4x28x28x128: ctile 5 packed d0+3 h0+1 from-zero epilogue prefetch-input; [rows lanes 0+128/16 cols 0+24/6 items 1792] [rows lanes 0+128/16 cols 24+4/4 items 1792]"},
    {"r2plus1d_18 conv", 256, {2, 6, 28, 28, 288}, {3, 1, 1}, {1, 1, 1}, 128,
     "conv 2x6x28x28x288 * 3x1x1 /1x1x1 -> 2x4x28x28x128: ctile 8 packed d0+3 h0+1 from-zero epilogue prefetch-input; [rows lanes 0+128/16 cols 0+24/6 items 1792] [rows lanes 0+128/16 cols 24+4/4 items 1792]"},
    {"r2plus1d_18 conv", 256, {2, 4, 30, 30, 128}, {1, 3, 3}, {1, 2, 2}, 460,
     "conv 2x4x30x30x128 * 1x3x3 /1x2x2 -> 2x4x14x14x460: ctile 8 F 460->464 packed d0+1 h0+3 from-zero; [rows lanes 0+464/16 cols 0+12/6 items 3248] [row-pairs lanes 0+464/16 cols 12+2/2 items 1624]"},
    {"r2plus1d_18 conv", 256, {2, 6, 14, 14, 460}, {3, 1, 1}, {2, 1, 1}, 256,
     "conv 2x6x14x14x460 * 3x1x1 /2x1x1 -> 2x2x14x14x256: ctile 5 packed d0+3 h0+1 from-zero epilogue prefetch-input; [rows lanes 0+256/16 cols 0+12/6 items 896] [row-pairs lanes 0+256/16 cols 12+2/2 items 448]"},
    {"r2plus1d_18 conv", 256, {2, 2, 16, 16, 256}, {1, 3, 3}, {1, 1, 1}, 460,
     "conv 2x2x16x16x256 * 1x3x3 /1x1x1 -> 2x2x14x14x460: ctile 8 F 460->464 packed d0+1 h0+3 from-zero; [rows lanes 0+464/16 cols 0+12/6 items 1624 edges 0] [row-pairs lanes 0+464/16 cols 12+2/2 items 812 edges 0]"},
    {"r2plus1d_18 conv", 256, {2, 4, 14, 14, 460}, {3, 1, 1}, {1, 1, 1}, 256,
     "conv 2x4x14x14x460 * 3x1x1 /1x1x1 -> 2x2x14x14x256: ctile 5 packed d0+3 h0+1 from-zero epilogue prefetch-input; [rows lanes 0+256/16 cols 0+12/6 items 896] [row-pairs lanes 0+256/16 cols 12+2/2 items 448]"},
    {"r2plus1d_18 conv", 256, {2, 4, 14, 14, 576}, {3, 1, 1}, {1, 1, 1}, 256,
     "conv 2x4x14x14x576 * 3x1x1 /1x1x1 -> 2x2x14x14x256: ctile 8 packed d0+3 h0+1 from-zero epilogue prefetch-input; [rows lanes 0+256/16 cols 0+12/6 items 896] [row-pairs lanes 0+256/16 cols 12+2/2 items 448]"},
    {"r2plus1d_18 conv", 256, {2, 2, 16, 16, 256}, {1, 3, 3}, {1, 2, 2}, 921,
     "conv 2x2x16x16x256 * 1x3x3 /1x2x2 -> 2x2x7x7x921: ctile 8 F 921->928 flat 5 packed d0+1 h0+3 from-zero; [flat lanes 0+928/16 cols 0+7/7 items 232 edges 0]"},
    {"r2plus1d_18 conv", 256, {2, 4, 7, 7, 921}, {3, 1, 1}, {2, 1, 1}, 512,
     "conv 2x4x7x7x921 * 3x1x1 /2x1x1 -> 2x1x7x7x512: ctile 3 flat 5 packed d1+2 h0+1 from-zero epilogue; [flat lanes 0+512/16 cols 0+7/7 items 64]"},
    {"r2plus1d_18 conv", 256, {2, 1, 9, 9, 512}, {1, 3, 3}, {1, 1, 1}, 921,
     "conv 2x1x9x9x512 * 1x3x3 /1x1x1 -> 2x1x7x7x921: ctile 8 F 921->928 flat 6 packed d0+1 h0+3 from-zero; [flat lanes 0+928/16 cols 0+7/7 items 116 edges 0]"},
    {"r2plus1d_18 conv", 256, {2, 3, 7, 7, 921}, {3, 1, 1}, {1, 1, 1}, 512,
     "conv 2x3x7x7x921 * 3x1x1 /1x1x1 -> 2x1x7x7x512: ctile 3 flat 5 packed d1+1 h0+1 from-zero epilogue; [flat lanes 0+512/16 cols 0+7/7 items 64]"},
    {"r2plus1d_18 conv", 256, {2, 1, 9, 9, 512}, {1, 3, 3}, {1, 1, 1}, 1152,
     "conv 2x1x9x9x512 * 1x3x3 /1x1x1 -> 2x1x7x7x1152: ctile 8 flat 6 packed d0+1 h0+3 from-zero epilogue; [flat lanes 0+1152/16 cols 0+7/7 items 144 edges 0]"},
    {"r2plus1d_18 conv", 256, {2, 3, 7, 7, 1152}, {3, 1, 1}, {1, 1, 1}, 512,
     "conv 2x3x7x7x1152 * 3x1x1 /1x1x1 -> 2x1x7x7x512: ctile 8 flat 5 packed d1+1 h0+1 from-zero epilogue; [flat lanes 0+512/16 cols 0+7/7 items 64]"},
    {"r2plus1d_18 conv", 512, {2, 8, 118, 118, 3}, {1, 7, 7}, {1, 2, 2}, 45,
     "conv 2x8x118x118x3 * 1x7x7 /1x2x2 -> 2x8x56x56x45: ctile 3 F 45->48 wide 3 from-zero filter-inner; [rows lanes 0+48/48 cols 0+56/8 items 896]"},
    {"r2plus1d_18 conv", 512, {2, 10, 56, 56, 45}, {3, 1, 1}, {1, 1, 1}, 64,
     "conv 2x10x56x56x45 * 3x1x1 /1x1x1 -> 2x8x56x56x64: ctile 5 wide 4 from-zero epilogue filter-inner prefetch-input; [rows lanes 0+64/64 cols 0+56/4 items 896]"},
    {"r2plus1d_18 conv", 512, {2, 10, 56, 56, 144}, {3, 1, 1}, {1, 1, 1}, 64,
     "conv 2x10x56x56x144 * 3x1x1 /1x1x1 -> 2x8x56x56x64: ctile 8 wide 4 from-zero epilogue filter-inner prefetch-input; [rows lanes 0+64/64 cols 0+56/4 items 896]"},
    {"r2plus1d_18 conv", 512, {2, 8, 58, 58, 64}, {1, 3, 3}, {1, 2, 2}, 230,
     "conv 2x8x58x58x64 * 1x3x3 /1x2x2 -> 2x8x28x28x230: ctile 8 F 230->240 wide 3 packed d0+1 h0+3 from-zero; [rows lanes 0+240/48 cols 0+28/7 items 2240]"},
    {"r2plus1d_18 conv", 512, {2, 10, 28, 28, 230}, {3, 1, 1}, {2, 1, 1}, 128,
     "conv 2x10x28x28x230 * 3x1x1 /2x1x1 -> 2x4x28x28x128: ctile 5 wide 4 packed d0+3 h0+1 from-zero epilogue prefetch-input; [rows lanes 0+128/64 cols 0+28/4 items 448]"},
    {"r2plus1d_18 conv", 512, {2, 4, 30, 30, 128}, {1, 3, 3}, {1, 1, 1}, 230,
     "conv 2x4x30x30x128 * 1x3x3 /1x1x1 -> 2x4x28x28x230: ctile 8 F 230->240 wide 3 packed d0+1 h0+3 from-zero; [rows lanes 0+240/48 cols 0+28/7 items 1120]"},
    {"r2plus1d_18 conv", 512, {2, 6, 28, 28, 230}, {3, 1, 1}, {1, 1, 1}, 128,
     "conv 2x6x28x28x230 * 3x1x1 /1x1x1 -> 2x4x28x28x128: ctile 5 wide 4 packed d0+3 h0+1 from-zero epilogue prefetch-input; [rows lanes 0+128/64 cols 0+28/4 items 448]"},
    {"r2plus1d_18 conv", 512, {2, 6, 28, 28, 288}, {3, 1, 1}, {1, 1, 1}, 128,
     "conv 2x6x28x28x288 * 3x1x1 /1x1x1 -> 2x4x28x28x128: ctile 8 wide 4 packed d0+3 h0+1 from-zero epilogue prefetch-input; [rows lanes 0+128/64 cols 0+28/4 items 448]"},
    {"r2plus1d_18 conv", 512, {2, 4, 30, 30, 128}, {1, 3, 3}, {1, 2, 2}, 460,
     "conv 2x4x30x30x128 * 1x3x3 /1x2x2 -> 2x4x14x14x460: ctile 8 F 460->464 from-zero; [rows lanes 0+448/32 cols 0+14/7 items 1568] [rows lanes 448+16/16 cols 0+14/7 items 112]"},
    {"r2plus1d_18 conv", 512, {2, 6, 14, 14, 460}, {3, 1, 1}, {2, 1, 1}, 256,
     "conv 2x6x14x14x460 * 3x1x1 /2x1x1 -> 2x2x14x14x256: ctile 5 wide 4 packed d0+3 h0+1 from-zero epilogue prefetch-input; [rows lanes 0+256/64 cols 0+12/6 items 224] [row-pairs lanes 0+256/64 cols 12+2/2 items 112]"},
    {"r2plus1d_18 conv", 512, {2, 2, 16, 16, 256}, {1, 3, 3}, {1, 1, 1}, 460,
     "conv 2x2x16x16x256 * 1x3x3 /1x1x1 -> 2x2x14x14x460: ctile 8 cblock 128 F 460->464; [reduction-outer lanes 0+448/32 cols 0+14/7 items 14 edges 0,1 clips 2] [reduction-outer lanes 448+16/16 cols 0+14/7 items 2 edges 0,1 clips 1]"},
    {"r2plus1d_18 conv", 512, {2, 4, 14, 14, 460}, {3, 1, 1}, {1, 1, 1}, 256,
     "conv 2x4x14x14x460 * 3x1x1 /1x1x1 -> 2x2x14x14x256: ctile 5 wide 4 packed d0+3 h0+1 from-zero epilogue prefetch-input; [rows lanes 0+256/64 cols 0+12/6 items 224] [row-pairs lanes 0+256/64 cols 12+2/2 items 112]"},
    {"r2plus1d_18 conv", 512, {2, 4, 14, 14, 576}, {3, 1, 1}, {1, 1, 1}, 256,
     "conv 2x4x14x14x576 * 3x1x1 /1x1x1 -> 2x2x14x14x256: ctile 8 wide 4 packed d0+3 h0+1 from-zero epilogue prefetch-input; [rows lanes 0+256/64 cols 0+12/6 items 224] [row-pairs lanes 0+256/64 cols 12+2/2 items 112]"},
    {"r2plus1d_18 conv", 512, {2, 2, 16, 16, 256}, {1, 3, 3}, {1, 2, 2}, 921,
     "conv 2x2x16x16x256 * 1x3x3 /1x2x2 -> 2x2x7x7x921: ctile 8 F 921->928 flat 13 packed d0+1 h0+3 from-zero; [flat lanes 0+928/32 cols 0+7/7 items 116 edges 0]"},
    {"r2plus1d_18 conv", 512, {2, 4, 7, 7, 921}, {3, 1, 1}, {2, 1, 1}, 512,
     "conv 2x4x7x7x921 * 3x1x1 /2x1x1 -> 2x1x7x7x512: ctile 3 flat 13 packed d1+2 h0+1 from-zero epilogue; [flat lanes 0+512/32 cols 0+7/7 items 32]"},
    {"r2plus1d_18 conv", 512, {2, 1, 9, 9, 512}, {1, 3, 3}, {1, 1, 1}, 921,
     "conv 2x1x9x9x512 * 1x3x3 /1x1x1 -> 2x1x7x7x921: ctile 8 F 921->928 flat 14 packed d0+1 h0+3 from-zero; [flat lanes 0+928/32 cols 0+7/7 items 58 edges 0]"},
    {"r2plus1d_18 conv", 512, {2, 3, 7, 7, 921}, {3, 1, 1}, {1, 1, 1}, 512,
     "conv 2x3x7x7x921 * 3x1x1 /1x1x1 -> 2x1x7x7x512: ctile 3 flat 13 packed d1+1 h0+1 from-zero epilogue; [flat lanes 0+512/32 cols 0+7/7 items 32]"},
    {"r2plus1d_18 conv", 512, {2, 1, 9, 9, 512}, {1, 3, 3}, {1, 1, 1}, 1152,
     "conv 2x1x9x9x512 * 1x3x3 /1x1x1 -> 2x1x7x7x1152: ctile 8 flat 14 packed d0+1 h0+3 from-zero epilogue; [flat lanes 0+1152/32 cols 0+7/7 items 72 edges 0]"},
    {"r2plus1d_18 conv", 512, {2, 3, 7, 7, 1152}, {3, 1, 1}, {1, 1, 1}, 512,
     "conv 2x3x7x7x1152 * 3x1x1 /1x1x1 -> 2x1x7x7x512: ctile 8 flat 13 packed d1+1 h0+1 from-zero epilogue; [flat lanes 0+512/32 cols 0+7/7 items 32]"},
    {"r2plus1d_18 conv data gradient", 512, {2, 1, 9, 9, 1152}, {1, 3, 3}, {1, 1, 1}, 512,
     "conv 2x1x9x9x1152 * 1x3x3 /1x1x1 -> 2x1x7x7x512: ctile 8 cblock 128; [reduction-outer lanes 0+512/32 cols 0+7/7 items 16 edges 0 clips 2 prefetch-filter]"},
    {"r2plus1d_18 conv data gradient", 512, {2, 1, 9, 9, 921}, {1, 3, 3}, {1, 1, 1}, 512,
     "conv 2x1x9x9x921 * 1x3x3 /1x1x1 -> 2x1x7x7x512: C 921->936 ctile 8 cblock 104; [reduction-outer lanes 0+512/32 cols 0+7/7 items 16 edges 0 clips 2 prefetch-filter]"},
    {"r2plus1d_18 conv data gradient", 512, {2, 2, 16, 16, 576}, {1, 3, 3}, {1, 1, 1}, 256,
     "conv 2x2x16x16x576 * 1x3x3 /1x1x1 -> 2x2x14x14x256: ctile 8 cblock 96; [reduction-outer lanes 0+256/32 cols 0+14/7 items 8 edges 0,1 clips 2]"},
};

TEST(ConvSchedule, ModelConvsAsPrinted) {
  for (const Case &c : kCases) {
    const ConvSchedule schedule =
        chooseConvSchedule(conv(c.input, c.kernel, c.strides, c.F), VectorTarget::forBits(c.vectorBits));
    EXPECT_EQ(describe(schedule), c.schedule) << c.conv << " with " << c.vectorBits << "-bit vectors";
  }
}

// r3d_18's stem (3x7x7 /1x2x2, 3 -> 64 channels at 8x56x56): AVX2's 6 x 16 tiles cover 54 of the
// 56 columns and a tail of two takes two output rows per tile; AVX-512's 4 x 64 tiles cover all 56.
TEST(ConvSchedule, R3dStemTiles) {
  const ConvProblem stem = conv({2, 10, 118, 118, 3}, {3, 7, 7}, {1, 2, 2}, 64);
  const ConvSchedule avx2 = chooseConvSchedule(stem, kAvx2);
  ASSERT_EQ(avx2.loops.size(), 2u);
  EXPECT_EQ(avx2.loops[0].kind, TileKind::Rows);
  EXPECT_EQ(avx2.loops[0].lanes.fTile, 16);
  EXPECT_EQ(avx2.loops[0].cols.columns, 54);
  EXPECT_EQ(avx2.loops[0].cols.rows, 6);
  EXPECT_EQ(avx2.loops[1].kind, TileKind::RowPairs);
  EXPECT_EQ(avx2.loops[1].cols.base, 54);
  EXPECT_EQ(avx2.loops[1].cols.rows, 2);
  EXPECT_EQ(avx2.loops[1].items, avx2.loops[0].items / 2);
  EXPECT_EQ(avx2.cTile, 3);
  EXPECT_TRUE(avx2.filterInner);
  EXPECT_FALSE(avx2.packed);
  EXPECT_TRUE(avx2.mayFuseEpilogue);

  const ConvSchedule avx512 = chooseConvSchedule(stem, kAvx512);
  ASSERT_EQ(avx512.loops.size(), 1u);
  EXPECT_EQ(avx512.wideVectors, 4);
  EXPECT_EQ(avx512.loops[0].lanes.fTile, 64);
  EXPECT_EQ(avx512.loops[0].cols.rows, 4);
  EXPECT_EQ(avx512.loops[0].cols.columns, 56);
  EXPECT_EQ(avx512.paddedOW, 56);
}

// mc3_18's 1x3x3 /1x2x2 64 -> 128 conv packs its filter (the taps all read) and, with AVX2, splits
// 28 columns as 4 x 6 + 4; its 1x1x1 shortcut writes each tile's sums and prefetches the next
// tile's input.
TEST(ConvSchedule, Mc3PackingAndShortcut) {
  const ConvSchedule conv2 = chooseConvSchedule(conv({2, 8, 58, 58, 64}, {1, 3, 3}, {1, 2, 2}, 128), kAvx2);
  EXPECT_TRUE(conv2.packed);
  EXPECT_EQ(conv2.firstD, 0);
  EXPECT_EQ(conv2.tapsD, 1);
  EXPECT_EQ(conv2.firstH, 0);
  EXPECT_EQ(conv2.tapsH, 3);
  ASSERT_EQ(conv2.loops.size(), 2u);
  EXPECT_EQ(conv2.loops[0].cols.columns, 24);
  EXPECT_EQ(conv2.loops[0].cols.rows, 6);
  EXPECT_EQ(conv2.loops[1].cols.base, 24);
  EXPECT_EQ(conv2.loops[1].cols.rows, 4);
  EXPECT_EQ(conv2.loops[1].kind, TileKind::Rows);

  const ConvSchedule shortcut = chooseConvSchedule(conv({2, 8, 56, 56, 64}, {1, 1, 1}, {1, 2, 2}, 128), kAvx2);
  EXPECT_FALSE(shortcut.packed);
  EXPECT_TRUE(shortcut.prefetchesInput);
  for (const TileLoop &loop : shortcut.loops)
    EXPECT_TRUE(loop.writesSums);
}

// Layer4's 7 x 7 frames: flat tiles over a packed filter, 5 or 6 positions with AVX2 and 13 or 14
// with AVX-512 (the fewer where padding leaves the larger tiles waiting on the latency); r3d_18's
// one output frame packs only the temporal taps it reads.
TEST(ConvSchedule, Layer4FlatTiles) {
  const ConvProblem mc3 = conv({2, 8, 9, 9, 512}, {1, 3, 3}, {1, 1, 1}, 512);
  const ConvSchedule avx2 = chooseConvSchedule(mc3, kAvx2);
  EXPECT_TRUE(avx2.flatTiles);
  EXPECT_EQ(avx2.flatRows, 6);
  EXPECT_TRUE(avx2.packed);
  ASSERT_EQ(avx2.loops.size(), 1u);
  EXPECT_EQ(avx2.loops[0].kind, TileKind::Flat);
  EXPECT_EQ(avx2.loops[0].lanes.fTile, 16);
  EXPECT_EQ(avx2.loops[0].flatTiles.size(), 9u); // ceil(49 / 6)
  EXPECT_EQ(chooseConvSchedule(mc3, kAvx512).flatRows, 14);

  const ConvProblem strided = conv({2, 8, 16, 16, 256}, {1, 3, 3}, {1, 2, 2}, 512);
  EXPECT_EQ(chooseConvSchedule(strided, kAvx2).flatRows, 5);
  EXPECT_EQ(chooseConvSchedule(strided, kAvx512).flatRows, 13);

  const ConvSchedule r3d = chooseConvSchedule(conv({2, 4, 16, 16, 256}, {3, 3, 3}, {2, 2, 2}, 512), kAvx2);
  EXPECT_TRUE(r3d.packed);
  EXPECT_EQ(r3d.firstD, 1);
  EXPECT_EQ(r3d.tapsD, 2);
  EXPECT_EQ(r3d.tapsH, 3);
}

// torchvision r2plus1d_18's layer4.0 data gradient (921 = 3 x 307 channels, 1x3x3 at 7x7) turns
// the reduction outside the tiles with AVX-512, C padded to 936 in blocks of 104, two clips per
// item and the next block's filter prefetched; its 1x3x3 256 -> 460 conv at 14x14 has two lane
// parts (448 lanes in 32, 16 in 16), each one column part of 7-column tiles with both edge blocks.
TEST(ConvSchedule, R2plus1dReductionOuter) {
  const ConvSchedule grad = chooseConvSchedule(conv({2, 1, 9, 9, 921}, {1, 3, 3}, {1, 1, 1}, 512), kAvx512);
  EXPECT_TRUE(grad.reductionOuter);
  EXPECT_FALSE(grad.fromZero);
  EXPECT_EQ(grad.realC, 921);
  EXPECT_EQ(grad.C, 936);
  EXPECT_EQ(grad.cBlock, 104);
  ASSERT_EQ(grad.loops.size(), 1u);
  EXPECT_EQ(grad.loops[0].clipsPerItem, 2);
  EXPECT_TRUE(grad.loops[0].prefetchesFilter);

  const ConvSchedule wide = chooseConvSchedule(conv({2, 2, 16, 16, 256}, {1, 3, 3}, {1, 1, 1}, 460), kAvx512);
  EXPECT_TRUE(wide.reductionOuter);
  EXPECT_EQ(wide.paddedF, 464);
  EXPECT_EQ(wide.cBlock, 128);
  ASSERT_EQ(wide.loops.size(), 2u);
  EXPECT_EQ(wide.loops[0].lanes.lanes, 448);
  EXPECT_EQ(wide.loops[0].lanes.fTile, 32);
  EXPECT_EQ(wide.loops[1].lanes.base, 448);
  EXPECT_EQ(wide.loops[1].lanes.fTile, 16);
  for (const TileLoop &loop : wide.loops) {
    EXPECT_EQ(loop.cols.rows, 7);
    EXPECT_EQ(loop.edgeBlocks, (std::vector<int64_t>{0, 1}));
  }
  // With AVX2 the same conv packs its filter and keeps the tiles outer: 12 columns of 6-row tiles
  // and a pair tail, its edge tiles' pieces cut where the taps along W read padding.
  const ConvSchedule avx2 = chooseConvSchedule(conv({2, 2, 16, 16, 256}, {1, 3, 3}, {1, 1, 1}, 460), kAvx2);
  EXPECT_FALSE(avx2.reductionOuter);
  EXPECT_TRUE(avx2.packed);
  ASSERT_EQ(avx2.loops.size(), 2u);
  EXPECT_EQ(avx2.loops[1].kind, TileKind::RowPairs);
  ASSERT_EQ(avx2.loops[0].edgeTiles.size(), 1u);
  const EdgeTile &edge = avx2.loops[0].edgeTiles[0];
  ASSERT_EQ(edge.pieces.size(), 2u); // row 0 (reads padding at kw = 0), rows 1-5
  EXPECT_EQ(edge.pieces[0].begin, 0);
  EXPECT_EQ(edge.pieces[0].end, 1);
  EXPECT_EQ(edge.pieces[1].end, 6);
}

// Frame pairs (no model conv takes them now that 7 x 7 frames from zero take flat tiles): with AVX2,
// a 1x3x3 conv at 7 x 7 onto an init other than zeros has each tile hold the rows of two frames
// in one vector of lanes.
TEST(ConvSchedule, FramePairsOntoInit) {
  const ConvSchedule s =
      chooseConvSchedule(conv({2, 8, 9, 9, 512}, {1, 3, 3}, {1, 1, 1}, 512, /*startsFromZero=*/false), kAvx2);
  EXPECT_TRUE(s.framePairs);
  EXPECT_FALSE(s.fromZero);
  ASSERT_EQ(s.loops.size(), 1u);
  EXPECT_EQ(s.loops[0].kind, TileKind::FramePairs);
  EXPECT_EQ(s.loops[0].lanes.fTile, 8);
  EXPECT_EQ(s.loops[0].cols.rows, 7);
  EXPECT_EQ(s.loops[0].items, 2 * 64 * 4 * 7);
}

} // namespace
