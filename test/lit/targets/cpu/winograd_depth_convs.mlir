// RUN: vidnet-opt --pass-pipeline='builtin.module(func.func(vidnet-cpu-winograd-depth-convs{vector-bits=256}),canonicalize)' %s | FileCheck %s
// RUN: vidnet-opt --pass-pipeline='builtin.module(func.func(vidnet-cpu-winograd-depth-convs))' %s | FileCheck %s --check-prefix=AVX512

// The input transform reads the padded frames 2q .. 2q + 3 of the real rows along H and all the
// padded columns; the filter transform packs the four phases over the taps along D per filter
// block of 16 lanes (AVX2: 32 lanes are two blocks of two vectors).
// CHECK-DAG: #[[F0:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1 * 2, d2 + 1, d3, d4)>
// CHECK-DAG: #[[F3:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1 * 2 + 3, d2 + 1, d3, d4)>
// CHECK-DAG: #[[W0:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (0, d2, d3, d4, d0 * 16 + d5)>
// CHECK-DAG: #[[W2:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (2, d2, d3, d4, d0 * 16 + d5)>

// Tests that a stride-1 3x3x3 conv with one zero frame on each side of D (OD = 4: 2 pairs)
// becomes F(2,3) along D: one pass computes the four phases t_i = (d0 - d2, d1 + d2, d2 - d1,
// d1 - d3) of the input's real rows; the filter's g_i is a weight pack; each item (q, oh,
// f-block) of the forall sums two 4-column x 16-lane tiles per phase (8 columns), one phase after the
// other, each over the taps along H that read real rows (kh in [max(0, 1 - oh), min(3, 7 - oh)),
// a partial per tap from zero), along W and the channels, and writes m0 + m1 + m2 as row 0
// (depth 2q) and m1 - m2 - m3 as row 1 (depth 2q + 1) of its two rows. The fill is gone.
// CHECK-LABEL: func.func @conv
// CHECK-NOT: linalg.fill ins(%{{.*}} outs(%{{.*}} : tensor<1x4x6x8x32xf32>)
// CHECK: %[[T:.*]]:4 = linalg.generic {indexing_maps = [#[[F0]], {{.*}}, {{.*}}, #[[F3]], {{.*}}]
// CHECK-SAME: outs({{.*}} : tensor<1x2x6x10x8xf32>, tensor<1x2x6x10x8xf32>, tensor<1x2x6x10x8xf32>, tensor<1x2x6x10x8xf32>)
// CHECK: ^bb0(%[[D0:[a-z0-9_]+]]: f32, %[[D1:[a-z0-9_]+]]: f32, %[[D2:[a-z0-9_]+]]: f32, %[[D3:[a-z0-9_]+]]: f32,
// CHECK: %[[T0:.*]] = arith.subf %[[D0]], %[[D2]]
// CHECK: %[[T1:.*]] = arith.addf %[[D1]], %[[D2]]
// CHECK: %[[T2:.*]] = arith.subf %[[D2]], %[[D1]]
// CHECK: %[[T3:.*]] = arith.subf %[[D1]], %[[D3]]
// CHECK: linalg.yield %[[T0]], %[[T1]], %[[T2]], %[[T3]]
// CHECK: %[[G:.*]] = linalg.generic {indexing_maps = [#[[W0]], {{.*}}, #[[W2]], {{.*}}]
// CHECK-SAME: outs(%{{.*}} : tensor<2x4x3x3x8x16xf32>) attrs = {vidnet.weight_pack}
// CHECK: scf.forall (%[[ITEM:.*]]) in (24)
// CHECK: %[[IDX:.*]]:3 = affine.delinearize_index %[[ITEM]] into (2, 6, 2)
// CHECK: %[[ROWS:.*]] = tensor.extract_slice %{{.*}}[0, %{{.*}}, %[[IDX]]#1, 0, %{{.*}}] [1, 2, 1, 8, 16] [1, 1, 1, 1, 1] : tensor<1x4x6x8x32xf32> to tensor<2x8x16xf32>
// CHECK: %[[KHLO:.*]] = arith.maxsi
// CHECK: %[[KHHI:.*]] = arith.minsi
// CHECK: scf.for %[[W0C:.*]] = %c0 to %c8 step %c4 iter_args(%[[R:.*]] = %[[ROWS]]) -> (tensor<2x8x16xf32>)
// CHECK: scf.for %[[KH:.*]] = %[[KHLO]] to %[[KHHI]] step %c1 iter_args(%[[M0:.*]] = %{{.*}}) -> (tensor<4x16xf32>)
// CHECK: linalg.fill ins(%{{.*}} : f32) outs(%{{.*}} : tensor<4x16xf32>)
// CHECK: scf.for %[[KW:.*]] = %c0 to %c3 step %c1
// CHECK: tensor.extract_slice %[[T]]#0[0, %[[IDX]]#0, %{{.*}}, %{{.*}}, 0] [1, 1, 1, 4, 8] [1, 1, 1, 1, 1] : tensor<1x2x6x10x8xf32> to tensor<4x8xf32>
// CHECK: tensor.extract_slice %[[G]][%[[IDX]]#2, 0, %[[KH]], %[[KW]], 0, 0] [1, 1, 1, 1, 8, 16]
// CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<4x8xf32>, tensor<8x16xf32>) outs(%{{.*}} : tensor<4x16xf32>)
// CHECK: linalg.add ins(%[[M0]], %{{.*}} : tensor<4x16xf32>, tensor<4x16xf32>)
// CHECK: %[[V0:.*]] = vector.transfer_read
// CHECK: tensor.extract_slice %[[T]]#1
// CHECK: tensor.extract_slice %[[G]][%[[IDX]]#2, 1,
// CHECK: %[[V1:.*]] = vector.transfer_read
// CHECK: tensor.extract_slice %[[T]]#2
// CHECK: tensor.extract_slice %[[G]][%[[IDX]]#2, 2,
// CHECK: %[[V2:.*]] = vector.transfer_read
// CHECK: tensor.extract_slice %[[T]]#3
// CHECK: tensor.extract_slice %[[G]][%[[IDX]]#2, 3,
// CHECK: %[[V3:.*]] = vector.transfer_read
// CHECK: %[[E0:.*]] = arith.addf %[[V0]], %[[V1]] : vector<4x16xf32>
// CHECK: %[[E:.*]] = arith.addf %[[E0]], %[[V2]] : vector<4x16xf32>
// CHECK: %[[O0:.*]] = arith.subf %[[V1]], %[[V2]] : vector<4x16xf32>
// CHECK: %[[O:.*]] = arith.subf %[[O0]], %[[V3]] : vector<4x16xf32>
// CHECK: %[[EVEN:.*]] = vector.transfer_write %[[E]], %[[R]][%c0, %[[W0C]], %c0] {{.*}} : vector<4x16xf32>, tensor<2x8x16xf32>
// CHECK: vector.transfer_write %[[O]], %[[EVEN]][%c1, %[[W0C]], %c0] {{.*}} : vector<4x16xf32>, tensor<2x8x16xf32>
// CHECK: tensor.parallel_insert_slice %{{.*}} into %{{.*}}[0, %{{.*}}, %[[IDX]]#1, 0, %{{.*}}] [1, 2, 1, 8, 16]
// With 32 registers (the default, AVX-512) the pass leaves every conv to vidnet-cpu-winograd-convs
// and vidnet-cpu-tile-convs.
// AVX512-LABEL: func.func @conv
// AVX512: linalg.conv_3d_ndhwc_dhwcf
func.func @conv(%x: tensor<1x4x6x8x8xf32>, %w: tensor<3x3x3x8x32xf32>) -> tensor<1x4x6x8x32xf32> {
  %zero = arith.constant 0.0 : f32
  %p = tensor.pad %x low[0, 1, 1, 1, 0] high[0, 1, 1, 1, 0] {
  ^bb0(%a: index, %b: index, %c: index, %d: index, %e: index):
    tensor.yield %zero : f32
  } : tensor<1x4x6x8x8xf32> to tensor<1x6x8x10x8xf32>
  %empty = tensor.empty() : tensor<1x4x6x8x32xf32>
  %init = linalg.fill ins(%zero : f32) outs(%empty : tensor<1x4x6x8x32xf32>) -> tensor<1x4x6x8x32xf32>
  %y = linalg.conv_3d_ndhwc_dhwcf {dilations = dense<1> : tensor<3xi64>, strides = dense<1> : tensor<3xi64>}
      ins(%p, %w : tensor<1x6x8x10x8xf32>, tensor<3x3x3x8x32xf32>) outs(%init : tensor<1x4x6x8x32xf32>) -> tensor<1x4x6x8x32xf32>
  return %y : tensor<1x4x6x8x32xf32>
}

// Tests a conv of 24 -> 48 channels (two blocks of three vectors, 4 x 24 tiles, 7 columns as
// 4 + 3) whose ReLU, its only user, runs on each depth's tile before the tile is inserted into
// its row; with one real row along H, only kh = 1 reads it (kh in [max(0, 1 - oh), min(3, 2 - oh))).
// CHECK-LABEL: func.func @relu_epilogue
// CHECK: scf.forall (%{{.*}}) in (4)
// CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<4x8xf32>, tensor<8x24xf32>) outs(%{{.*}} : tensor<4x24xf32>)
// CHECK: arith.maximumf
// CHECK: tensor.insert_slice %{{.*}} into %{{.*}}[0, 0, 0] [1, 4, 24] [1, 1, 1] : tensor<4x24xf32> into tensor<2x7x24xf32>
// CHECK: arith.maximumf
// CHECK: tensor.insert_slice %{{.*}} into %{{.*}}[1, 0, 0] [1, 4, 24] [1, 1, 1] : tensor<4x24xf32> into tensor<2x7x24xf32>
// CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<3x8xf32>, tensor<8x24xf32>) outs(%{{.*}} : tensor<3x24xf32>)
// CHECK: tensor.insert_slice %{{.*}} into %{{.*}}[1, 4, 0] [1, 3, 24] [1, 1, 1] : tensor<3x24xf32> into tensor<2x7x24xf32>
// CHECK-NOT: linalg.generic
// CHECK: return
func.func @relu_epilogue(%x: tensor<1x4x1x7x24xf32>, %w: tensor<3x3x3x24x48xf32>) -> tensor<1x4x1x7x48xf32> {
  %zero = arith.constant 0.0 : f32
  %p = tensor.pad %x low[0, 1, 1, 1, 0] high[0, 1, 1, 1, 0] {
  ^bb0(%a: index, %b: index, %c: index, %d: index, %e: index):
    tensor.yield %zero : f32
  } : tensor<1x4x1x7x24xf32> to tensor<1x6x3x9x24xf32>
  %empty = tensor.empty() : tensor<1x4x1x7x48xf32>
  %init = linalg.fill ins(%zero : f32) outs(%empty : tensor<1x4x1x7x48xf32>) -> tensor<1x4x1x7x48xf32>
  %y = linalg.conv_3d_ndhwc_dhwcf {dilations = dense<1> : tensor<3xi64>, strides = dense<1> : tensor<3xi64>}
      ins(%p, %w : tensor<1x6x3x9x24xf32>, tensor<3x3x3x24x48xf32>) outs(%init : tensor<1x4x1x7x48xf32>) -> tensor<1x4x1x7x48xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]}
      ins(%y : tensor<1x4x1x7x48xf32>) outs(%empty : tensor<1x4x1x7x48xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.maximumf %in, %zero : f32
    linalg.yield %m : f32
  } -> tensor<1x4x1x7x48xf32>
  return %r : tensor<1x4x1x7x48xf32>
}

// Tests what stays a direct conv: an odd OD, no padding along D, two taps along D, stride 2
// along D, a 3x1x1 conv (one tap along H and W), and any conv of @train_step (its forward's
// convs and data gradients keep their schedule).
// CHECK-LABEL: func.func @left_alone
// CHECK-COUNT-5: linalg.conv_3d_ndhwc_dhwcf
// CHECK-LABEL: func.func @train_step
// CHECK: linalg.conv_3d_ndhwc_dhwcf
func.func @left_alone(%odd: tensor<1x3x2x8x8xf32>, %x: tensor<1x4x2x8x8xf32>, %w: tensor<3x3x3x8x16xf32>,
                      %w2: tensor<2x3x3x8x16xf32>, %w311: tensor<3x1x1x8x16xf32>)
    -> (tensor<1x3x2x8x16xf32>, tensor<1x2x2x8x16xf32>, tensor<1x5x2x8x16xf32>, tensor<1x2x2x8x16xf32>,
        tensor<1x4x2x8x16xf32>) {
  %zero = arith.constant 0.0 : f32
  %po = tensor.pad %odd low[0, 1, 1, 1, 0] high[0, 1, 1, 1, 0] {
  ^bb0(%a: index, %b: index, %c: index, %d: index, %e: index):
    tensor.yield %zero : f32
  } : tensor<1x3x2x8x8xf32> to tensor<1x5x4x10x8xf32>
  %e3 = tensor.empty() : tensor<1x3x2x8x16xf32>
  %i3 = linalg.fill ins(%zero : f32) outs(%e3 : tensor<1x3x2x8x16xf32>) -> tensor<1x3x2x8x16xf32>
  %oddOut = linalg.conv_3d_ndhwc_dhwcf {dilations = dense<1> : tensor<3xi64>, strides = dense<1> : tensor<3xi64>}
      ins(%po, %w : tensor<1x5x4x10x8xf32>, tensor<3x3x3x8x16xf32>) outs(%i3 : tensor<1x3x2x8x16xf32>) -> tensor<1x3x2x8x16xf32>
  %phw = tensor.pad %x low[0, 0, 1, 1, 0] high[0, 0, 1, 1, 0] {
  ^bb0(%a: index, %b: index, %c: index, %d: index, %e: index):
    tensor.yield %zero : f32
  } : tensor<1x4x2x8x8xf32> to tensor<1x4x4x10x8xf32>
  %e2 = tensor.empty() : tensor<1x2x2x8x16xf32>
  %i2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<1x2x2x8x16xf32>) -> tensor<1x2x2x8x16xf32>
  %valid = linalg.conv_3d_ndhwc_dhwcf {dilations = dense<1> : tensor<3xi64>, strides = dense<1> : tensor<3xi64>}
      ins(%phw, %w : tensor<1x4x4x10x8xf32>, tensor<3x3x3x8x16xf32>) outs(%i2 : tensor<1x2x2x8x16xf32>) -> tensor<1x2x2x8x16xf32>
  %px = tensor.pad %x low[0, 1, 1, 1, 0] high[0, 1, 1, 1, 0] {
  ^bb0(%a: index, %b: index, %c: index, %d: index, %e: index):
    tensor.yield %zero : f32
  } : tensor<1x4x2x8x8xf32> to tensor<1x6x4x10x8xf32>
  %e5 = tensor.empty() : tensor<1x5x2x8x16xf32>
  %i5 = linalg.fill ins(%zero : f32) outs(%e5 : tensor<1x5x2x8x16xf32>) -> tensor<1x5x2x8x16xf32>
  %twoTaps = linalg.conv_3d_ndhwc_dhwcf {dilations = dense<1> : tensor<3xi64>, strides = dense<1> : tensor<3xi64>}
      ins(%px, %w2 : tensor<1x6x4x10x8xf32>, tensor<2x3x3x8x16xf32>) outs(%i5 : tensor<1x5x2x8x16xf32>) -> tensor<1x5x2x8x16xf32>
  %strided = linalg.conv_3d_ndhwc_dhwcf {dilations = dense<1> : tensor<3xi64>, strides = dense<[2, 1, 1]> : tensor<3xi64>}
      ins(%px, %w : tensor<1x6x4x10x8xf32>, tensor<3x3x3x8x16xf32>) outs(%i2 : tensor<1x2x2x8x16xf32>) -> tensor<1x2x2x8x16xf32>
  %pd = tensor.pad %x low[0, 1, 0, 0, 0] high[0, 1, 0, 0, 0] {
  ^bb0(%a: index, %b: index, %c: index, %d: index, %e: index):
    tensor.yield %zero : f32
  } : tensor<1x4x2x8x8xf32> to tensor<1x6x2x8x8xf32>
  %e4 = tensor.empty() : tensor<1x4x2x8x16xf32>
  %i4 = linalg.fill ins(%zero : f32) outs(%e4 : tensor<1x4x2x8x16xf32>) -> tensor<1x4x2x8x16xf32>
  %temporal = linalg.conv_3d_ndhwc_dhwcf {dilations = dense<1> : tensor<3xi64>, strides = dense<1> : tensor<3xi64>}
      ins(%pd, %w311 : tensor<1x6x2x8x8xf32>, tensor<3x1x1x8x16xf32>) outs(%i4 : tensor<1x4x2x8x16xf32>) -> tensor<1x4x2x8x16xf32>
  return %oddOut, %valid, %twoTaps, %strided, %temporal
      : tensor<1x3x2x8x16xf32>, tensor<1x2x2x8x16xf32>, tensor<1x5x2x8x16xf32>, tensor<1x2x2x8x16xf32>, tensor<1x4x2x8x16xf32>
}

func.func @train_step(%x: tensor<1x4x2x8x8xf32>, %w: tensor<3x3x3x8x16xf32>) -> tensor<1x4x2x8x16xf32> {
  %zero = arith.constant 0.0 : f32
  %px = tensor.pad %x low[0, 1, 1, 1, 0] high[0, 1, 1, 1, 0] {
  ^bb0(%a: index, %b: index, %c: index, %d: index, %e: index):
    tensor.yield %zero : f32
  } : tensor<1x4x2x8x8xf32> to tensor<1x6x4x10x8xf32>
  %e = tensor.empty() : tensor<1x4x2x8x16xf32>
  %i = linalg.fill ins(%zero : f32) outs(%e : tensor<1x4x2x8x16xf32>) -> tensor<1x4x2x8x16xf32>
  %y = linalg.conv_3d_ndhwc_dhwcf {dilations = dense<1> : tensor<3xi64>, strides = dense<1> : tensor<3xi64>}
      ins(%px, %w : tensor<1x6x4x10x8xf32>, tensor<3x3x3x8x16xf32>) outs(%i : tensor<1x4x2x8x16xf32>) -> tensor<1x4x2x8x16xf32>
  return %y : tensor<1x4x2x8x16xf32>
}
