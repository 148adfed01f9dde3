// The filter-gradient schedule (FilterGradSchedule.h) for every filter gradient of r3d_18, mc3_18
// and torchvision r2plus1d_18 (train_step at --batch 2, --input 3x8x112x112) on AVX2 and AVX-512:
// each decision as the pass's IR takes it, so that a changed decision fails here by name. The
// tables hold describe()'s line for each shape (the schedules vidnet-cpu-tile-filter-grads
// {print-schedules} prints for those models); the tests after them check single decisions with
// the reason for each.
#include "compiler/targets/cpu/FilterGradSchedule.h"
#include "compiler/targets/cpu/LoopInfo.h"

#include <gtest/gtest.h>

#include <array>
#include <string>

using namespace vidnet::cpu;

namespace {

const VectorRegisters kAvx2 = VectorRegisters::forBits(256);
const VectorRegisters kAvx512 = VectorRegisters::forBits(512);

// The filter gradient of x [N, D, H, W, C] and dy [N, OD, OH, OW, F] into dW [KD, KH, KW, C, F].
FilterGradProblem problem(std::array<int64_t, 5> x, std::array<int64_t, 5> dy, std::array<int64_t, 5> dw,
                          std::array<int64_t, 3> strides, std::array<int64_t, 3> padding) {
  FilterGradProblem p;
  p.filter = dw;
  p.input = x;
  p.output = dy;
  p.strides = strides;
  p.padding = padding;
  p.flops = convFlops(dw, strides, dy, padding, llvm::ArrayRef<int64_t>(x).slice(1, 3));
  return p;
}

// describe()'s choices, after the filter gradient's name.
std::string choices(const FilterGradSchedule &s) {
  const std::string line = describe(s);
  return line.substr(line.find(": ") + 2);
}

struct ScheduleCase {
  FilterGradProblem problem;
  const char *avx2, *avx512;
};

// r3d_18: its 11 filter-gradient shapes (of 20), stem first; AVX2 then AVX-512.
const ScheduleCase kR3d18[] = {
    // 3x7x7 3->64 /1x2x2, out 2x8x56x56
    {problem({2, 8, 112, 112, 3}, {2, 8, 56, 56, 64}, {3, 7, 7, 3, 64}, {1, 2, 2}, {1, 3, 3}),
     "tile=3x16 ow=8 kw=4x2 last-kw=1 c=3/1 f=64/4 dy=64 items=336 "
     "operands=in-place chunks=224x4 order=parts parts=16x14",
     "tile=3x32 ow=8 kw=2x4 last-kw=3 c=3/1 f=64/2 dy=64 items=84 "
     "operands=in-place chunks=224x4 order=parts parts=16x14"},
    // 3x3x3 64->64 /1x1x1, out 2x8x56x56
    {problem({2, 8, 56, 56, 64}, {2, 8, 56, 56, 64}, {3, 3, 3, 64, 64}, {1, 1, 1}, {1, 1, 1}),
     "tile=6x16 ow=8 kw=3x1 c=66/11 tail=4 f=64/4 dy=64 items=1188 "
     "operands=blocked chunks=224x4 order=parts parts=16x14",
     "tile=8x32 ow=8 kw=3x1 c=64/8 f=64/2 dy=64 items=432 "
     "operands=blocked chunks=224x4 order=parts parts=16x14"},
    // 3x3x3 64->128 /2x2x2, out 2x4x28x28
    {problem({2, 8, 56, 56, 64}, {2, 4, 28, 28, 128}, {3, 3, 3, 64, 128}, {2, 2, 2}, {1, 1, 1}),
     "tile=6x16 ow=7 kw=3x1 c=66/11 tail=4 f=128/8 dy=128 items=2376 "
     "operands=blocked chunks=28x8 order=block-then-chunks",
     "tile=8x32 ow=7 kw=3x1 c=64/8 f=128/4 dy=128 items=864 "
     "operands=blocked chunks=28x8 order=chunk-then-tiles"},
    // 1x1x1 64->128 /2x2x2, out 2x4x28x28
    {problem({2, 8, 56, 56, 64}, {2, 4, 28, 28, 128}, {1, 1, 1, 64, 128}, {2, 2, 2}, {0, 0, 0}),
     "tile=6x16 ow=7 kw=1x1 c=66/11 tail=4 f=128/8 dy=128 items=88 "
     "operands=in-place chunks=224x1 pointwise order=parts parts=16x14 prefetch",
     "tile=8x32 ow=7 kw=1x1 c=64/8 f=128/4 dy=128 items=32 "
     "operands=in-place chunks=224x1 pointwise order=parts parts=16x14 prefetch"},
    // 3x3x3 128->128 /1x1x1, out 2x4x28x28
    {problem({2, 4, 28, 28, 128}, {2, 4, 28, 28, 128}, {3, 3, 3, 128, 128}, {1, 1, 1}, {1, 1, 1}),
     "tile=6x16 ow=7 kw=3x1 c=132/22 tail=2 f=128/8 dy=128 items=4752 "
     "operands=blocked chunks=28x8 order=block-then-chunks",
     "tile=8x32 ow=7 kw=3x1 c=128/16 f=128/4 dy=128 items=1728 "
     "operands=blocked chunks=28x8 order=block-then-chunks"},
    // 3x3x3 128->256 /2x2x2, out 2x2x14x14
    {problem({2, 4, 28, 28, 128}, {2, 2, 14, 14, 256}, {3, 3, 3, 128, 256}, {2, 2, 2}, {1, 1, 1}),
     "tile=6x16 ow=7 kw=3x1 c=132/22 tail=2 f=256/16 dy=256 items=9504 "
     "operands=blocked chunks=1x56 whole order=block-then-chunks",
     "tile=8x32 ow=7 kw=3x1 c=128/16 f=256/8 dy=256 items=3456 "
     "operands=blocked chunks=1x56 whole order=block-then-chunks"},
    // 1x1x1 128->256 /2x2x2, out 2x2x14x14
    {problem({2, 4, 28, 28, 128}, {2, 2, 14, 14, 256}, {1, 1, 1, 128, 256}, {2, 2, 2}, {0, 0, 0}),
     "tile=6x16 ow=7 kw=1x1 c=132/22 tail=2 f=256/16 dy=256 items=352 "
     "operands=in-place chunks=56x1 pointwise order=parts parts=14x4 prefetch",
     "tile=8x32 ow=7 kw=1x1 c=128/16 f=256/8 dy=256 items=128 "
     "operands=in-place chunks=56x1 pointwise order=parts parts=14x4 prefetch"},
    // 3x3x3 256->256 /1x1x1, out 2x2x14x14
    {problem({2, 2, 14, 14, 256}, {2, 2, 14, 14, 256}, {3, 3, 3, 256, 256}, {1, 1, 1}, {1, 1, 1}),
     "tile=6x16 ow=7 kw=3x1 c=258/43 tail=4 f=256/16 dy=256 items=18576 "
     "operands=blocked chunks=1x56 whole order=chunk-then-tiles streamed-dw skip-w=2",
     "tile=8x32 ow=7 kw=3x1 c=256/32 f=256/8 dy=256 items=6912 "
     "operands=blocked chunks=1x56 whole order=chunk-then-tiles streamed-dw skip-w=2"},
    // 3x3x3 256->512 /2x2x2, out 2x1x7x7
    {problem({2, 2, 14, 14, 256}, {2, 1, 7, 7, 512}, {3, 3, 3, 256, 512}, {2, 2, 2}, {1, 1, 1}),
     "tile=6x16 ow=7 kw=3x1 c=258/43 tail=4 f=512/32 dy=512 items=37152 "
     "operands=blocked chunks=1x14 whole order=chunk-then-tiles streamed-dw skip-w=1",
     "tile=8x32 ow=7 kw=3x1 c=256/32 f=512/16 dy=512 items=13824 "
     "operands=blocked chunks=1x14 whole order=chunk-then-tiles streamed-dw skip-w=1"},
    // 1x1x1 256->512 /2x2x2, out 2x1x7x7
    {problem({2, 2, 14, 14, 256}, {2, 1, 7, 7, 512}, {1, 1, 1, 256, 512}, {2, 2, 2}, {0, 0, 0}),
     "tile=6x16 ow=7 kw=1x1 c=258/43 tail=4 f=512/32 dy=512 items=1376 "
     "operands=blocked-compact chunks=1x14 whole order=block-then-chunks",
     "tile=8x32 ow=7 kw=1x1 c=256/32 f=512/16 dy=512 items=512 "
     "operands=blocked-compact chunks=1x14 whole order=block-then-chunks"},
    // 3x3x3 512->512 /1x1x1, out 2x1x7x7
    {problem({2, 1, 7, 7, 512}, {2, 1, 7, 7, 512}, {3, 3, 3, 512, 512}, {1, 1, 1}, {1, 1, 1}),
     "tile=6x16 ow=7 kw=3x1 c=516/86 tail=2 f=512/32 dy=512 items=74304 "
     "operands=blocked chunks=1x14 whole order=chunk-then-tiles streamed-dw skip-w=1",
     "tile=8x32 ow=7 kw=3x1 c=512/64 f=512/16 dy=512 items=27648 "
     "operands=blocked chunks=1x14 whole order=chunk-then-tiles streamed-dw skip-w=1"},
};

// mc3_18: its 11 filter-gradient shapes (of 20), stem first; AVX2 then AVX-512.
const ScheduleCase kMc318[] = {
    // 3x7x7 3->64 /1x2x2, out 2x8x56x56
    {problem({2, 8, 112, 112, 3}, {2, 8, 56, 56, 64}, {3, 7, 7, 3, 64}, {1, 2, 2}, {1, 3, 3}),
     "tile=3x16 ow=8 kw=4x2 last-kw=1 c=3/1 f=64/4 dy=64 items=336 "
     "operands=in-place chunks=224x4 order=parts parts=16x14",
     "tile=3x32 ow=8 kw=2x4 last-kw=3 c=3/1 f=64/2 dy=64 items=84 "
     "operands=in-place chunks=224x4 order=parts parts=16x14"},
    // 3x3x3 64->64 /1x1x1, out 2x8x56x56
    {problem({2, 8, 56, 56, 64}, {2, 8, 56, 56, 64}, {3, 3, 3, 64, 64}, {1, 1, 1}, {1, 1, 1}),
     "tile=6x16 ow=8 kw=3x1 c=66/11 tail=4 f=64/4 dy=64 items=1188 "
     "operands=blocked chunks=224x4 order=parts parts=16x14",
     "tile=8x32 ow=8 kw=3x1 c=64/8 f=64/2 dy=64 items=432 "
     "operands=blocked chunks=224x4 order=parts parts=16x14"},
    // 1x3x3 64->128 /1x2x2, out 2x8x28x28
    {problem({2, 8, 56, 56, 64}, {2, 8, 28, 28, 128}, {1, 3, 3, 64, 128}, {1, 2, 2}, {0, 1, 1}),
     "tile=6x16 ow=7 kw=3x1 c=66/11 tail=4 f=128/8 dy=128 items=792 "
     "operands=blocked chunks=56x8 order=block-then-chunks",
     "tile=8x32 ow=7 kw=3x1 c=64/8 f=128/4 dy=128 items=288 "
     "operands=blocked chunks=56x8 order=chunk-then-tiles"},
    // 1x1x1 64->128 /1x2x2, out 2x8x28x28
    {problem({2, 8, 56, 56, 64}, {2, 8, 28, 28, 128}, {1, 1, 1, 64, 128}, {1, 2, 2}, {0, 0, 0}),
     "tile=6x16 ow=7 kw=1x1 c=66/11 tail=4 f=128/8 dy=128 items=88 "
     "operands=in-place chunks=448x1 pointwise order=parts parts=16x28 prefetch",
     "tile=8x32 ow=7 kw=1x1 c=64/8 f=128/4 dy=128 items=32 "
     "operands=in-place chunks=448x1 pointwise order=parts parts=16x28 prefetch"},
    // 1x3x3 128->128 /1x1x1, out 2x8x28x28
    {problem({2, 8, 28, 28, 128}, {2, 8, 28, 28, 128}, {1, 3, 3, 128, 128}, {1, 1, 1}, {0, 1, 1}),
     "tile=6x16 ow=7 kw=3x1 c=132/22 tail=2 f=128/8 dy=128 items=1584 "
     "operands=blocked chunks=56x8 order=block-then-chunks",
     "tile=8x32 ow=7 kw=3x1 c=128/16 f=128/4 dy=128 items=576 "
     "operands=blocked chunks=56x8 order=block-then-chunks"},
    // 1x3x3 128->256 /1x2x2, out 2x8x14x14
    {problem({2, 8, 28, 28, 128}, {2, 8, 14, 14, 256}, {1, 3, 3, 128, 256}, {1, 2, 2}, {0, 1, 1}),
     "tile=6x16 ow=7 kw=3x1 c=132/22 tail=2 f=256/16 dy=256 items=3168 "
     "operands=blocked chunks=14x16 order=block-then-chunks",
     "tile=8x32 ow=7 kw=3x1 c=128/16 f=256/8 dy=256 items=1152 "
     "operands=blocked chunks=14x16 order=block-then-chunks"},
    // 1x1x1 128->256 /1x2x2, out 2x8x14x14
    {problem({2, 8, 28, 28, 128}, {2, 8, 14, 14, 256}, {1, 1, 1, 128, 256}, {1, 2, 2}, {0, 0, 0}),
     "tile=6x16 ow=7 kw=1x1 c=132/22 tail=2 f=256/16 dy=256 items=352 "
     "operands=in-place chunks=224x1 pointwise order=parts parts=16x14 prefetch",
     "tile=8x32 ow=7 kw=1x1 c=128/16 f=256/8 dy=256 items=128 "
     "operands=in-place chunks=224x1 pointwise order=parts parts=16x14 prefetch"},
    // 1x3x3 256->256 /1x1x1, out 2x8x14x14
    {problem({2, 8, 14, 14, 256}, {2, 8, 14, 14, 256}, {1, 3, 3, 256, 256}, {1, 1, 1}, {0, 1, 1}),
     "tile=6x16 ow=7 kw=3x1 c=258/43 tail=4 f=256/16 dy=256 items=6192 "
     "operands=blocked chunks=14x16 order=block-then-chunks skip-w=2",
     "tile=8x32 ow=7 kw=3x1 c=256/32 f=256/8 dy=256 items=2304 "
     "operands=blocked chunks=14x16 order=block-then-chunks skip-w=2"},
    // 1x3x3 256->512 /1x2x2, out 2x8x7x7
    {problem({2, 8, 14, 14, 256}, {2, 8, 7, 7, 512}, {1, 3, 3, 256, 512}, {1, 2, 2}, {0, 1, 1}),
     "tile=6x16 ow=7 kw=3x1 c=258/43 tail=4 f=512/32 dy=512 items=12384 "
     "operands=blocked chunks=4x28 order=block-then-chunks skip-w=1",
     "tile=8x32 ow=7 kw=3x1 c=256/32 f=512/16 dy=512 items=4608 "
     "operands=blocked chunks=4x28 order=block-then-chunks skip-w=1"},
    // 1x1x1 256->512 /1x2x2, out 2x8x7x7
    {problem({2, 8, 14, 14, 256}, {2, 8, 7, 7, 512}, {1, 1, 1, 256, 512}, {1, 2, 2}, {0, 0, 0}),
     "tile=6x16 ow=7 kw=1x1 c=258/43 tail=4 f=512/32 dy=512 items=1376 "
     "operands=blocked-compact chunks=4x28 order=block-then-chunks",
     "tile=8x32 ow=7 kw=1x1 c=256/32 f=512/16 dy=512 items=512 "
     "operands=blocked-compact chunks=4x28 order=block-then-chunks"},
    // 1x3x3 512->512 /1x1x1, out 2x8x7x7
    {problem({2, 8, 7, 7, 512}, {2, 8, 7, 7, 512}, {1, 3, 3, 512, 512}, {1, 1, 1}, {0, 1, 1}),
     "tile=6x16 ow=7 kw=3x1 c=516/86 tail=2 f=512/32 dy=512 items=24768 "
     "operands=blocked chunks=4x28 order=block-then-chunks skip-w=1",
     "tile=8x32 ow=7 kw=3x1 c=512/64 f=512/16 dy=512 items=9216 "
     "operands=blocked chunks=4x28 order=block-then-chunks skip-w=1"},
};

// r2plus1d_18_tv: its 25 filter-gradient shapes (of 37), stem first; AVX2 then AVX-512.
const ScheduleCase kR2plus1d18[] = {
    // 1x7x7 3->45 /1x2x2, out 2x8x56x56
    {problem({2, 8, 112, 112, 3}, {2, 8, 56, 56, 45}, {1, 7, 7, 3, 45}, {1, 2, 2}, {0, 3, 3}),
     "tile=3x16 ow=8 kw=4x2 last-kw=1 c=3/1 f=48/3 dy=48 items=84 "
     "operands=in-place chunks=224x4 order=parts parts=16x14",
     "tile=3x32 ow=8 kw=2x4 last-kw=3 c=3/1 f=64/2 dy=48 half-block items=28 "
     "operands=in-place chunks=224x4 order=parts parts=16x14"},
    // 3x1x1 45->64 /1x1x1, out 2x8x56x56
    {problem({2, 8, 56, 56, 45}, {2, 8, 56, 56, 64}, {3, 1, 1, 45, 64}, {1, 1, 1}, {1, 0, 0}),
     "tile=6x16 ow=8 kw=1x1 c=48/8 tail=3 f=64/4 dy=64 items=96 "
     "operands=in-place chunks=896x1 row-chunks order=parts parts=16x56 prefetch",
     "tile=8x32 ow=8 kw=1x1 c=48/6 tail=5 f=64/2 dy=64 items=36 "
     "operands=in-place chunks=896x1 row-chunks order=parts parts=16x56 prefetch"},
    // 1x3x3 64->144 /1x1x1, out 2x8x56x56
    {problem({2, 8, 56, 56, 64}, {2, 8, 56, 56, 144}, {1, 3, 3, 64, 144}, {1, 1, 1}, {0, 1, 1}),
     "tile=6x16 ow=8 kw=3x1 c=66/11 tail=4 f=144/9 dy=144 items=891 "
     "operands=blocked chunks=224x4 order=parts parts=16x14",
     "tile=8x32 ow=8 kw=3x1 c=64/8 f=160/5 dy=144 half-block items=360 "
     "operands=blocked chunks=224x4 order=parts parts=16x14"},
    // 3x1x1 144->64 /1x1x1, out 2x8x56x56
    {problem({2, 8, 56, 56, 144}, {2, 8, 56, 56, 64}, {3, 1, 1, 144, 64}, {1, 1, 1}, {1, 0, 0}),
     "tile=6x16 ow=8 kw=1x1 c=144/24 f=64/4 dy=64 items=288 "
     "operands=in-place chunks=896x1 row-chunks order=parts parts=16x56 prefetch",
     "tile=8x32 ow=8 kw=1x1 c=144/18 f=64/2 dy=64 items=108 "
     "operands=in-place chunks=896x1 row-chunks order=parts parts=16x56 prefetch"},
    // 1x3x3 64->230 /1x2x2, out 2x8x28x28
    {problem({2, 8, 56, 56, 64}, {2, 8, 28, 28, 230}, {1, 3, 3, 64, 230}, {1, 2, 2}, {0, 1, 1}),
     "tile=6x16 ow=7 kw=3x1 c=66/11 tail=4 f=240/15 dy=232 half-block items=1485 "
     "operands=blocked chunks=56x8 order=block-then-chunks",
     "tile=8x32 ow=7 kw=3x1 c=64/8 f=256/8 dy=240 half-block items=576 "
     "operands=blocked chunks=56x8 order=block-then-chunks"},
    // 3x1x1 230->128 /2x1x1, out 2x4x28x28
    {problem({2, 8, 28, 28, 230}, {2, 4, 28, 28, 128}, {3, 1, 1, 230, 128}, {2, 1, 1}, {1, 0, 0}),
     "tile=6x16 ow=7 kw=1x1 c=234/39 tail=2 f=128/8 dy=128 items=936 "
     "operands=blocked chunks=28x8 order=block-then-chunks",
     "tile=8x32 ow=7 kw=1x1 c=232/29 tail=6 f=128/4 dy=128 items=348 "
     "operands=blocked chunks=28x8 order=block-then-chunks"},
    // 1x3x3 128->230 /1x1x1, out 2x4x28x28
    {problem({2, 4, 28, 28, 128}, {2, 4, 28, 28, 230}, {1, 3, 3, 128, 230}, {1, 1, 1}, {0, 1, 1}),
     "tile=6x16 ow=7 kw=3x1 c=132/22 tail=2 f=240/15 dy=232 half-block items=2970 "
     "operands=blocked chunks=28x8 order=block-then-chunks",
     "tile=8x32 ow=7 kw=3x1 c=128/16 f=256/8 dy=240 half-block items=1152 "
     "operands=blocked chunks=28x8 order=block-then-chunks"},
    // 3x1x1 230->128 /1x1x1, out 2x4x28x28
    {problem({2, 4, 28, 28, 230}, {2, 4, 28, 28, 128}, {3, 1, 1, 230, 128}, {1, 1, 1}, {1, 0, 0}),
     "tile=6x16 ow=7 kw=1x1 c=234/39 tail=2 f=128/8 dy=128 items=936 "
     "operands=blocked chunks=28x8 order=block-then-chunks",
     "tile=8x32 ow=7 kw=1x1 c=232/29 tail=6 f=128/4 dy=128 items=348 "
     "operands=blocked chunks=28x8 order=block-then-chunks"},
    // 1x1x1 64->128 /2x2x2, out 2x4x28x28
    {problem({2, 8, 56, 56, 64}, {2, 4, 28, 28, 128}, {1, 1, 1, 64, 128}, {2, 2, 2}, {0, 0, 0}),
     "tile=6x16 ow=7 kw=1x1 c=66/11 tail=4 f=128/8 dy=128 items=88 "
     "operands=in-place chunks=224x1 pointwise order=parts parts=16x14 prefetch",
     "tile=8x32 ow=7 kw=1x1 c=64/8 f=128/4 dy=128 items=32 "
     "operands=in-place chunks=224x1 pointwise order=parts parts=16x14 prefetch"},
    // 1x3x3 128->288 /1x1x1, out 2x4x28x28
    {problem({2, 4, 28, 28, 128}, {2, 4, 28, 28, 288}, {1, 3, 3, 128, 288}, {1, 1, 1}, {0, 1, 1}),
     "tile=6x16 ow=7 kw=3x1 c=132/22 tail=2 f=288/18 dy=288 items=3564 "
     "operands=blocked chunks=28x8 order=block-then-chunks",
     "tile=8x32 ow=7 kw=3x1 c=128/16 f=288/9 dy=288 items=1296 "
     "operands=blocked chunks=28x8 order=block-then-chunks"},
    // 3x1x1 288->128 /1x1x1, out 2x4x28x28
    {problem({2, 4, 28, 28, 288}, {2, 4, 28, 28, 128}, {3, 1, 1, 288, 128}, {1, 1, 1}, {1, 0, 0}),
     "tile=6x16 ow=7 kw=1x1 c=288/48 f=128/8 dy=128 items=1152 "
     "operands=blocked chunks=28x8 order=block-then-chunks",
     "tile=8x32 ow=7 kw=1x1 c=288/36 f=128/4 dy=128 items=432 "
     "operands=blocked chunks=28x8 order=block-then-chunks"},
    // 1x3x3 128->460 /1x2x2, out 2x4x14x14
    {problem({2, 4, 28, 28, 128}, {2, 4, 14, 14, 460}, {1, 3, 3, 128, 460}, {1, 2, 2}, {0, 1, 1}),
     "tile=6x16 ow=7 kw=3x1 c=132/22 tail=2 f=464/29 dy=464 items=5742 "
     "operands=blocked chunks=7x16 order=block-then-chunks",
     "tile=8x32 ow=7 kw=3x1 c=128/16 f=480/15 dy=464 half-block items=2160 "
     "operands=blocked chunks=7x16 order=block-then-chunks"},
    // 3x1x1 460->256 /2x1x1, out 2x2x14x14
    {problem({2, 4, 14, 14, 460}, {2, 2, 14, 14, 256}, {3, 1, 1, 460, 256}, {2, 1, 1}, {1, 0, 0}),
     "tile=6x16 ow=7 kw=1x1 c=462/77 tail=4 f=256/16 dy=256 items=3696 "
     "operands=blocked chunks=1x56 whole order=block-then-chunks",
     "tile=8x32 ow=7 kw=1x1 c=464/58 tail=4 f=256/8 dy=256 items=1392 "
     "operands=blocked chunks=1x56 whole order=block-then-chunks"},
    // 1x3x3 256->460 /1x1x1, out 2x2x14x14
    {problem({2, 2, 14, 14, 256}, {2, 2, 14, 14, 460}, {1, 3, 3, 256, 460}, {1, 1, 1}, {0, 1, 1}),
     "tile=6x16 ow=7 kw=3x1 c=258/43 tail=4 f=464/29 dy=464 items=11223 "
     "operands=blocked chunks=4x14 order=block-then-chunks skip-w=2",
     "tile=8x32 ow=7 kw=3x1 c=256/32 f=480/15 dy=464 half-block items=4320 "
     "operands=blocked chunks=4x14 order=block-then-chunks skip-w=2"},
    // 3x1x1 460->256 /1x1x1, out 2x2x14x14
    {problem({2, 2, 14, 14, 460}, {2, 2, 14, 14, 256}, {3, 1, 1, 460, 256}, {1, 1, 1}, {1, 0, 0}),
     "tile=6x16 ow=7 kw=1x1 c=462/77 tail=4 f=256/16 dy=256 items=3696 "
     "operands=blocked chunks=1x56 whole order=block-then-chunks",
     "tile=8x32 ow=7 kw=1x1 c=464/58 tail=4 f=256/8 dy=256 items=1392 "
     "operands=blocked chunks=1x56 whole order=block-then-chunks"},
    // 1x1x1 128->256 /2x2x2, out 2x2x14x14
    {problem({2, 4, 28, 28, 128}, {2, 2, 14, 14, 256}, {1, 1, 1, 128, 256}, {2, 2, 2}, {0, 0, 0}),
     "tile=6x16 ow=7 kw=1x1 c=132/22 tail=2 f=256/16 dy=256 items=352 "
     "operands=in-place chunks=56x1 pointwise order=parts parts=14x4 prefetch",
     "tile=8x32 ow=7 kw=1x1 c=128/16 f=256/8 dy=256 items=128 "
     "operands=in-place chunks=56x1 pointwise order=parts parts=14x4 prefetch"},
    // 1x3x3 256->576 /1x1x1, out 2x2x14x14
    {problem({2, 2, 14, 14, 256}, {2, 2, 14, 14, 576}, {1, 3, 3, 256, 576}, {1, 1, 1}, {0, 1, 1}),
     "tile=6x16 ow=7 kw=3x1 c=258/43 tail=4 f=576/36 dy=576 items=13932 "
     "operands=blocked chunks=4x14 order=block-then-chunks skip-w=2",
     "tile=8x32 ow=7 kw=3x1 c=256/32 f=576/18 dy=576 items=5184 "
     "operands=blocked chunks=4x14 order=block-then-chunks skip-w=2"},
    // 3x1x1 576->256 /1x1x1, out 2x2x14x14
    {problem({2, 2, 14, 14, 576}, {2, 2, 14, 14, 256}, {3, 1, 1, 576, 256}, {1, 1, 1}, {1, 0, 0}),
     "tile=6x16 ow=7 kw=1x1 c=576/96 f=256/16 dy=256 items=4608 "
     "operands=blocked chunks=1x56 whole order=block-then-chunks",
     "tile=8x32 ow=7 kw=1x1 c=576/72 f=256/8 dy=256 items=1728 "
     "operands=blocked chunks=1x56 whole order=block-then-chunks"},
    // 1x3x3 256->921 /1x2x2, out 2x2x7x7
    {problem({2, 2, 14, 14, 256}, {2, 2, 7, 7, 921}, {1, 3, 3, 256, 921}, {1, 2, 2}, {0, 1, 1}),
     "tile=6x16 ow=7 kw=3x1 c=258/43 tail=4 f=928/58 dy=928 items=22446 "
     "operands=blocked chunks=1x28 whole order=chunk-then-tiles streamed-dw skip-w=1",
     "tile=8x32 ow=7 kw=3x1 c=256/32 f=928/29 dy=928 items=8352 "
     "operands=blocked chunks=1x28 whole order=chunk-then-tiles streamed-dw skip-w=1"},
    // 3x1x1 921->512 /2x1x1, out 2x1x7x7
    {problem({2, 2, 7, 7, 921}, {2, 1, 7, 7, 512}, {3, 1, 1, 921, 512}, {2, 1, 1}, {1, 0, 0}),
     "tile=6x16 ow=7 kw=1x1 c=924/154 tail=3 f=512/32 dy=512 items=14784 "
     "operands=blocked chunks=1x14 whole order=chunk-then-tiles streamed-dw",
     "tile=8x32 ow=7 kw=1x1 c=928/116 tail=1 f=512/16 dy=512 items=5568 "
     "operands=blocked chunks=1x14 whole order=chunk-then-tiles streamed-dw"},
    // 1x3x3 512->921 /1x1x1, out 2x1x7x7
    {problem({2, 1, 7, 7, 512}, {2, 1, 7, 7, 921}, {1, 3, 3, 512, 921}, {1, 1, 1}, {0, 1, 1}),
     "tile=6x16 ow=7 kw=3x1 c=516/86 tail=2 f=928/58 dy=928 items=44892 "
     "operands=blocked chunks=1x14 whole order=chunk-then-tiles streamed-dw skip-w=1",
     "tile=8x32 ow=7 kw=3x1 c=512/64 f=928/29 dy=928 items=16704 "
     "operands=blocked chunks=1x14 whole order=chunk-then-tiles streamed-dw skip-w=1"},
    // 3x1x1 921->512 /1x1x1, out 2x1x7x7
    {problem({2, 1, 7, 7, 921}, {2, 1, 7, 7, 512}, {3, 1, 1, 921, 512}, {1, 1, 1}, {1, 0, 0}),
     "tile=6x16 ow=7 kw=1x1 c=924/154 tail=3 f=512/32 dy=512 items=14784 "
     "operands=blocked chunks=1x14 whole order=chunk-then-tiles streamed-dw",
     "tile=8x32 ow=7 kw=1x1 c=928/116 tail=1 f=512/16 dy=512 items=5568 "
     "operands=blocked chunks=1x14 whole order=chunk-then-tiles streamed-dw"},
    // 1x1x1 256->512 /2x2x2, out 2x1x7x7
    {problem({2, 2, 14, 14, 256}, {2, 1, 7, 7, 512}, {1, 1, 1, 256, 512}, {2, 2, 2}, {0, 0, 0}),
     "tile=6x16 ow=7 kw=1x1 c=258/43 tail=4 f=512/32 dy=512 items=1376 "
     "operands=blocked-compact chunks=1x14 whole order=block-then-chunks",
     "tile=8x32 ow=7 kw=1x1 c=256/32 f=512/16 dy=512 items=512 "
     "operands=blocked-compact chunks=1x14 whole order=block-then-chunks"},
    // 1x3x3 512->1152 /1x1x1, out 2x1x7x7
    {problem({2, 1, 7, 7, 512}, {2, 1, 7, 7, 1152}, {1, 3, 3, 512, 1152}, {1, 1, 1}, {0, 1, 1}),
     "tile=6x16 ow=7 kw=3x1 c=516/86 tail=2 f=1152/72 dy=1152 items=55728 "
     "operands=blocked chunks=1x14 whole order=chunk-then-tiles streamed-dw skip-w=1",
     "tile=8x32 ow=7 kw=3x1 c=512/64 f=1152/36 dy=1152 items=20736 "
     "operands=blocked chunks=1x14 whole order=chunk-then-tiles streamed-dw skip-w=1"},
    // 3x1x1 1152->512 /1x1x1, out 2x1x7x7
    {problem({2, 1, 7, 7, 1152}, {2, 1, 7, 7, 512}, {3, 1, 1, 1152, 512}, {1, 1, 1}, {1, 0, 0}),
     "tile=6x16 ow=7 kw=1x1 c=1152/192 f=512/32 dy=512 items=18432 "
     "operands=blocked chunks=1x14 whole order=chunk-then-tiles streamed-dw",
     "tile=8x32 ow=7 kw=1x1 c=1152/144 f=512/16 dy=512 items=6912 "
     "operands=blocked chunks=1x14 whole order=chunk-then-tiles streamed-dw"},
};


void expectSchedules(const ScheduleCase *begin, const ScheduleCase *end) {
  for (const ScheduleCase *c = begin; c != end; ++c) {
    const FilterGradSchedule avx2 = chooseFilterGradSchedule(c->problem, kAvx2);
    const FilterGradSchedule avx512 = chooseFilterGradSchedule(c->problem, kAvx512);
    SCOPED_TRACE(describe(avx512));
    EXPECT_EQ(choices(avx2), c->avx2) << "AVX2";
    EXPECT_EQ(choices(avx512), c->avx512) << "AVX-512";
  }
}

TEST(FilterGradScheduleTest, R3d18) { expectSchedules(std::begin(kR3d18), std::end(kR3d18)); }
TEST(FilterGradScheduleTest, Mc318) { expectSchedules(std::begin(kMc318), std::end(kMc318)); }
TEST(FilterGradScheduleTest, R2plus1d18) { expectSchedules(std::begin(kR2plus1d18), std::end(kR2plus1d18)); }

TEST(FilterGradScheduleTest, DescribeNamesTheFilterGradient) {
  const FilterGradSchedule s = chooseFilterGradSchedule(kR3d18[0].problem, kAvx512);
  EXPECT_EQ(describe(s), "3x7x7 3->64 /1x2x2, out 2x8x56x56: " + std::string(kR3d18[0].avx512));
}

// A stem's 3 channels make a tile of 3 rows: it takes several taps along W instead, up to 12
// rows on AVX-512 (7 taps in groups of 4 and 3) and 6 on AVX2 (groups of 2, the last 1), dW's
// taps padded to a whole number of groups.
TEST(FilterGradScheduleTest, StemTilesTakeTapsAlongW) {
  const FilterGradProblem stem = kR3d18[0].problem;
  const FilterGradSchedule avx512 = chooseFilterGradSchedule(stem, kAvx512);
  EXPECT_EQ(avx512.cTile, 3);
  EXPECT_EQ(avx512.kwGroups, 2);
  EXPECT_EQ(avx512.kwTaps, 4);
  EXPECT_EQ(avx512.lastKwTaps, 3);
  EXPECT_EQ(avx512.paddedKW, 8);
  EXPECT_EQ(avx512.items, 3 * 7 * 2 * 1 * 2);
  const FilterGradSchedule avx2 = chooseFilterGradSchedule(stem, kAvx2);
  EXPECT_EQ(avx2.kwGroups, 4);
  EXPECT_EQ(avx2.kwTaps, 2);
  EXPECT_EQ(avx2.lastKwTaps, 1);
  EXPECT_EQ(avx2.paddedKW, 8);
  // x's 3 colours are one block of channels already: not copied.
  EXPECT_FALSE(avx2.blocked);
  EXPECT_FALSE(avx512.blocked);
}

// 230 output channels: dy's lanes padded to whole vectors (240 on AVX-512, 232 on AVX2) end in
// half a block of two, which the last f-block sums and widens with zeros into dW's lanes
// padded to whole blocks. On AVX2 the 128 input channels are 21 tiles of 6 and a tail of 2.
TEST(FilterGradScheduleTest, HalfBlockOfLanesAndTailChannels) {
  const FilterGradProblem p =
      problem({2, 4, 28, 28, 128}, {2, 4, 28, 28, 230}, {1, 3, 3, 128, 230}, {1, 1, 1}, {0, 1, 1});
  const FilterGradSchedule avx512 = chooseFilterGradSchedule(p, kAvx512);
  EXPECT_EQ(avx512.dyLanes, 240);
  EXPECT_TRUE(avx512.halfBlock);
  EXPECT_EQ(avx512.paddedF, 256);
  EXPECT_EQ(avx512.fTile, 32);
  EXPECT_EQ(avx512.cTile, 8);
  EXPECT_EQ(avx512.tailChannels, 0);
  const FilterGradSchedule avx2 = chooseFilterGradSchedule(p, kAvx2);
  EXPECT_EQ(avx2.dyLanes, 232);
  EXPECT_TRUE(avx2.halfBlock);
  EXPECT_EQ(avx2.paddedF, 240);
  EXPECT_EQ(avx2.fTile, 16);
  EXPECT_EQ(avx2.cTile, 6);
  EXPECT_EQ(avx2.paddedC, 132);
  EXPECT_EQ(avx2.tailChannels, 2);
  EXPECT_EQ(avx2.cBlocks, 22);
}

// The first stage's 3x3x3 64->64 filter gradients (r3d_18's layer1, 224 chunks of 4 rows of 56
// positions) sum in 16 parts of 14 chunks, from x and dy copied into channel blocks.
TEST(FilterGradScheduleTest, FirstStageSumsInParts) {
  const FilterGradProblem p = kR3d18[1].problem;
  for (const VectorRegisters &regs : {kAvx2, kAvx512}) {
    const FilterGradSchedule s = chooseFilterGradSchedule(p, regs);
    EXPECT_EQ(s.chunkRows, 4);
    EXPECT_EQ(s.chunks, 224);
    EXPECT_EQ(s.parts, 16);
    EXPECT_EQ(s.chunksPerPart, 14);
    EXPECT_EQ(s.order, FilterGradOrder::Parts);
    EXPECT_TRUE(s.blocked);
    EXPECT_FALSE(s.streamsDw);
  }
}

// The 1x1x1 64->128 /2x2x2 shortcut (32 KB of dW) sums in parts over chunks of one row read in
// place, each item prefetching its share of the next chunk's rows.
TEST(FilterGradScheduleTest, SmallPointwiseSumsInPartsAndPrefetches) {
  const FilterGradProblem p =
      problem({2, 8, 56, 56, 64}, {2, 4, 28, 28, 128}, {1, 1, 1, 64, 128}, {2, 2, 2}, {0, 0, 0});
  const FilterGradSchedule s = chooseFilterGradSchedule(p, kAvx2);
  EXPECT_TRUE(s.pointwise);
  EXPECT_FALSE(s.blocked);
  EXPECT_TRUE(s.prefetchesRows);
  EXPECT_EQ(s.chunkRows, 1);
  EXPECT_EQ(s.chunks, 224);
  EXPECT_EQ(s.parts, 16);
  EXPECT_EQ(s.order, FilterGradOrder::Parts);
}

// The 1x1x1 256->512 /2x2x2 shortcut copies only x's positions at the stride, compact, and sums
// them as a stride-1 conv's: per channel block of dW, over its one chunk.
TEST(FilterGradScheduleTest, StridedPointwiseCopiesCompactX) {
  const FilterGradProblem p =
      problem({2, 2, 14, 14, 256}, {2, 1, 7, 7, 512}, {1, 1, 1, 256, 512}, {2, 2, 2}, {0, 0, 0});
  const FilterGradSchedule s = chooseFilterGradSchedule(p, kAvx512);
  EXPECT_TRUE(s.pointwiseStrided);
  EXPECT_TRUE(s.subsampled);
  EXPECT_EQ(s.xStrides, (std::array<int64_t, 3>{1, 1, 1}));
  EXPECT_EQ(s.xShape, (std::array<int64_t, 5>{2, 1, 7, 7, 256}));
  EXPECT_FALSE(s.pointwise); // 512 KB of dW
  EXPECT_EQ(s.chunks, 1);
  EXPECT_EQ(s.order, FilterGradOrder::BlockThenChunks);
}

// At 14 x 14 outputs, 3 taps along W with one zero column either side: a twentieth of the
// products read padding, skipped in each of the 2 column blocks of 7 where tap 0 (first block)
// or tap 2 (second) reads it. At 28 x 28 (a fortieth) nothing is skipped.
TEST(FilterGradScheduleTest, SkipsWPaddingPerColumnBlock) {
  const FilterGradProblem p =
      problem({2, 8, 14, 14, 256}, {2, 8, 14, 14, 256}, {1, 3, 3, 256, 256}, {1, 1, 1}, {0, 1, 1});
  const FilterGradSchedule s = chooseFilterGradSchedule(p, kAvx512);
  ASSERT_TRUE(s.skipsW);
  EXPECT_EQ(s.owTile, 7);
  ASSERT_EQ(s.columnBlocks.size(), 2u);
  EXPECT_EQ(s.columnBlocks[0].begin, 0);
  ASSERT_EQ(s.columnBlocks[0].edgeTaps.size(), 1u);
  EXPECT_EQ(s.columnBlocks[0].edgeTaps[0].tap, 0);
  EXPECT_EQ(s.columnBlocks[0].edgeTaps[0].first, 1);
  EXPECT_EQ(s.columnBlocks[0].edgeTaps[0].end, 7);
  EXPECT_EQ(s.columnBlocks[1].begin, 7);
  ASSERT_EQ(s.columnBlocks[1].edgeTaps.size(), 1u);
  EXPECT_EQ(s.columnBlocks[1].edgeTaps[0].tap, 2);
  EXPECT_EQ(s.columnBlocks[1].edgeTaps[0].first, 7);
  EXPECT_EQ(s.columnBlocks[1].edgeTaps[0].end, 13);
  const FilterGradProblem wide =
      problem({2, 8, 28, 28, 128}, {2, 8, 28, 28, 128}, {1, 3, 3, 128, 128}, {1, 1, 1}, {0, 1, 1});
  const FilterGradSchedule w = chooseFilterGradSchedule(wide, kAvx512);
  EXPECT_FALSE(w.skipsW);
  EXPECT_TRUE(w.columnBlocks.empty());
}

// Summed in one chunk, a dW of at least 4 MB is written with streamed stores (r3d_18's 3x3x3
// 512->512, 28 MB), one of 3.4 MB is not (its 3x3x3 128->256 /2x2x2, summed per channel block).
TEST(FilterGradScheduleTest, StreamsLargeDwOfOneChunk) {
  const FilterGradSchedule large = chooseFilterGradSchedule(
      problem({2, 1, 7, 7, 512}, {2, 1, 7, 7, 512}, {3, 3, 3, 512, 512}, {1, 1, 1}, {1, 1, 1}), kAvx512);
  EXPECT_EQ(large.chunks, 1);
  EXPECT_TRUE(large.wholeReduction);
  EXPECT_TRUE(large.streamsDw);
  EXPECT_EQ(large.order, FilterGradOrder::ChunkThenTiles);
  const FilterGradSchedule smaller = chooseFilterGradSchedule(
      problem({2, 4, 28, 28, 128}, {2, 2, 14, 14, 256}, {3, 3, 3, 128, 256}, {2, 2, 2}, {1, 1, 1}), kAvx512);
  EXPECT_EQ(smaller.chunks, 1);
  EXPECT_FALSE(smaller.streamsDw);
  EXPECT_EQ(smaller.order, FilterGradOrder::BlockThenChunks);
}

// torchvision r2plus1d_18's first temporal 3x1x1 144->64 filter gradients read x and dy in
// place in chunks of one row, summed in parts, each item prefetching the next row.
TEST(FilterGradScheduleTest, TemporalConvsInRowChunks) {
  const FilterGradProblem p =
      problem({2, 8, 56, 56, 144}, {2, 8, 56, 56, 64}, {3, 1, 1, 144, 64}, {1, 1, 1}, {1, 0, 0});
  const FilterGradSchedule s = chooseFilterGradSchedule(p, kAvx2);
  EXPECT_FALSE(s.blocked);
  EXPECT_TRUE(s.prefetchesRows);
  EXPECT_TRUE(s.rowChunks);
  EXPECT_EQ(s.chunkRows, 1);
  EXPECT_EQ(s.chunks, 896);
  EXPECT_EQ(s.parts, 16);
  EXPECT_EQ(s.chunksPerPart, 56);
}

} // namespace
