// RUN: vidnet-opt --vidnet-cpu-parallelize-elementwise --split-input-file %s | FileCheck %s

// Tests that a large elementwise op (a per-channel affine map and ReLU over 2x8x16x16x64) becomes
// a forall over its leading dimensions until there are at least 32 items (2 x 8 x 16 = 256),
// each item a whole row of W x C with the channel vector sliced as the tiling interface does.
// CHECK-LABEL: func.func @bn_relu
// CHECK: scf.forall (%[[N:.*]], %[[D:.*]], %[[H:.*]]) in (2, 8, 16) shared_outs(%[[OUT:.*]] = %{{.*}})
// CHECK: tensor.extract_slice %{{.*}}[%[[N]], %[[D]], %[[H]], 0, 0] [1, 1, 1, 16, 64]
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<1x1x1x16x64xf32>)
// CHECK: tensor.parallel_insert_slice %{{.*}} into %[[OUT]][%[[N]], %[[D]], %[[H]], 0, 0] [1, 1, 1, 16, 64]
#act = affine_map<(n, d, h, w, c) -> (n, d, h, w, c)>
#chan = affine_map<(n, d, h, w, c) -> (c)>
func.func @bn_relu(%x: tensor<2x8x16x16x64xf32>, %scale: tensor<64xf32>) -> tensor<2x8x16x16x64xf32> {
  %e = tensor.empty() : tensor<2x8x16x16x64xf32>
  %zero = arith.constant 0.0 : f32
  %y = linalg.generic {indexing_maps = [#act, #chan, #act],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]}
      ins(%x, %scale : tensor<2x8x16x16x64xf32>, tensor<64xf32>) outs(%e : tensor<2x8x16x16x64xf32>) {
  ^bb0(%a: f32, %s: f32, %o: f32):
    %m = arith.mulf %a, %s : f32
    %r = arith.maximumf %m, %zero : f32
    linalg.yield %r : f32
  } -> tensor<2x8x16x16x64xf32>
  return %y : tensor<2x8x16x16x64xf32>
}

// -----

// Tests that a large zero fill is parallel too, over its leading dimensions (3 x 3 x 3 = 27 is
// not yet 32 items, so the fourth dimension is split as well), and that small ops and a
// small sum over the leading dimension (32k elements) are left alone.
// CHECK-LABEL: func.func @fill_and_small
// CHECK: scf.forall (%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) in (3, 3, 3, 64)
// CHECK: linalg.fill {{.*}} -> tensor<1x1x1x1x128xf32>
// CHECK-NOT: scf.forall (
// CHECK: linalg.fill {{.*}} -> tensor<4x64xf32>
// CHECK: linalg.generic {{.*}}iterator_types = ["reduction", "parallel"]
func.func @fill_and_small(%x: tensor<512x64xf32>) -> (tensor<3x3x3x64x128xf32>, tensor<4x64xf32>, tensor<64xf32>) {
  %zero = arith.constant 0.0 : f32
  %big = tensor.empty() : tensor<3x3x3x64x128xf32>
  %f = linalg.fill ins(%zero : f32) outs(%big : tensor<3x3x3x64x128xf32>) -> tensor<3x3x3x64x128xf32>
  %small = tensor.empty() : tensor<4x64xf32>
  %g = linalg.fill ins(%zero : f32) outs(%small : tensor<4x64xf32>) -> tensor<4x64xf32>
  %acc0 = tensor.empty() : tensor<64xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%acc0 : tensor<64xf32>) -> tensor<64xf32>
  %sum = linalg.generic {indexing_maps = [affine_map<(p, c) -> (p, c)>, affine_map<(p, c) -> (c)>],
                         iterator_types = ["reduction", "parallel"]}
      ins(%x : tensor<512x64xf32>) outs(%acc : tensor<64xf32>) {
  ^bb0(%a: f32, %o: f32):
    %s = arith.addf %a, %o : f32
    linalg.yield %s : f32
  } -> tensor<64xf32>
  return %f, %g, %sum : tensor<3x3x3x64x128xf32>, tensor<4x64xf32>, tensor<64xf32>
}

// -----

// Tests that per-plane sums (parallel over N and D, reducing H and W) are split over their
// parallel leading dimensions only: each item sums its own planes, in the same order as before.
// CHECK-LABEL: func.func @plane_sums
// CHECK: scf.forall (%[[N:.*]], %[[D:.*]]) in (2, 8)
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "reduction", "reduction", "parallel"]} ins(%{{.*}} : tensor<1x1x16x16x64xf32>) outs(%{{.*}} : tensor<1x1x64xf32>)
#in = affine_map<(n, d, h, w, c) -> (n, d, h, w, c)>
#plane = affine_map<(n, d, h, w, c) -> (n, d, c)>
func.func @plane_sums(%x: tensor<2x8x16x16x64xf32>) -> tensor<2x8x64xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x8x64xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%e : tensor<2x8x64xf32>) -> tensor<2x8x64xf32>
  %s = linalg.generic {indexing_maps = [#in, #plane],
                       iterator_types = ["parallel", "parallel", "reduction", "reduction", "parallel"]}
      ins(%x : tensor<2x8x16x16x64xf32>) outs(%acc : tensor<2x8x64xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = arith.addf %a, %o : f32
    linalg.yield %r : f32
  } -> tensor<2x8x64xf32>
  return %s : tensor<2x8x64xf32>
}

// -----

// Tests that a depthwise conv as vidnet-lower-to-linalg writes it (taps reduced inside the output
// positions, the channel innermost) is parallel over its leading output positions (N, D, H: 2 x 8
// x 16 items), each item whole along W, the taps and the channels, and that its input slice
// spans the taps (a 3 x 3 x 18 window of the padded input for one output row).
// CHECK-LABEL: func.func @depthwise_conv
// CHECK: scf.forall (%{{.*}}, %{{.*}}, %{{.*}}) in (2, 8, 16)
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction", "reduction", "parallel", "parallel"]} ins(%{{[^ ]+}}, %{{[^ ]+}} : tensor<1x3x3x18x64x1xf32>, tensor<3x3x3x1x64x1xf32>) outs(%{{.*}} : tensor<1x1x1x16x64x1xf32>)
#dw_x = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7, d8, d9) -> (d0, d1 + d4, d2 + d5, d3 + d6, d9, d7)>
#dw_w = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7, d8, d9) -> (d4, d5, d6, d7, d9, d8)>
#dw_y = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7, d8, d9) -> (d0, d1, d2, d3, d9, d8)>
func.func @depthwise_conv(%x: tensor<2x10x18x18x64x1xf32>, %w: tensor<3x3x3x1x64x1xf32>) -> tensor<2x8x16x16x64x1xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x8x16x16x64x1xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%e : tensor<2x8x16x16x64x1xf32>) -> tensor<2x8x16x16x64x1xf32>
  %y = linalg.generic {indexing_maps = [#dw_x, #dw_w, #dw_y],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction",
                                         "reduction", "reduction", "parallel", "parallel"]}
      ins(%x, %w : tensor<2x10x18x18x64x1xf32>, tensor<3x3x3x1x64x1xf32>) outs(%acc : tensor<2x8x16x16x64x1xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %o, %p : f32
    linalg.yield %s : f32
  } -> tensor<2x8x16x16x64x1xf32>
  return %y : tensor<2x8x16x16x64x1xf32>
}

// -----

// Tests that a per-channel sum over every position (dgamma's form: float32 dy and x, a per-channel
// mean, float64 sums) becomes 32 partial sums over contiguous blocks of positions (2x8x16x16 =
// 4096 positions, 128 each), one item of a parallel loop each with the original body, whose
// partials are then added to the original init in order.
// CHECK-LABEL: func.func @channel_sums
// CHECK-SAME: (%[[DY:.*]]: tensor<2x8x16x16x64xf32>, %[[X:.*]]: tensor<2x8x16x16x64xf32>, %[[MEAN:.*]]: tensor<64xf32>)
// CHECK: %[[INIT:.*]] = linalg.fill {{.*}} -> tensor<64xf64>
// CHECK: %[[DY1:.*]] = tensor.collapse_shape %[[DY]] {{\[}}[0, 1, 2, 3], [4]] : tensor<2x8x16x16x64xf32> into tensor<4096x64xf32>
// CHECK: %[[DY2:.*]] = tensor.expand_shape %[[DY1]] {{\[}}[0, 1], [2]] output_shape [32, 128, 64]
// CHECK: %[[X1:.*]] = tensor.collapse_shape %[[X]]
// CHECK: %[[X2:.*]] = tensor.expand_shape %[[X1]]
// CHECK: %[[ZERO:.*]] = linalg.fill {{.*}} -> tensor<32x64xf64>
// CHECK: %[[PARTS:.*]] = scf.forall (%[[P:.*]]) in (32) shared_outs(%{{.*}} = %[[ZERO]])
// CHECK-DAG: tensor.extract_slice %[[DY2]][%[[P]], 0, 0] [1, 128, 64]
// CHECK-DAG: tensor.extract_slice %[[X2]][%[[P]], 0, 0] [1, 128, 64]
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "reduction", "parallel"]} ins({{.*}} : tensor<1x128x64xf32>, tensor<1x128x64xf32>, tensor<64xf32>) outs(%{{.*}} : tensor<1x64xf64>)
// CHECK: arith.subf
// CHECK: arith.mulf
// CHECK: arith.extf
// CHECK: arith.addf
// CHECK: %[[TOTAL:.*]] = linalg.generic {{.*}}iterator_types = ["reduction", "parallel"]} ins(%[[PARTS]] : tensor<32x64xf64>) outs(%[[INIT]] : tensor<64xf64>)
// CHECK: return %[[TOTAL]]
#pos = affine_map<(n, d, h, w, c) -> (n, d, h, w, c)>
#ch = affine_map<(n, d, h, w, c) -> (c)>
func.func @channel_sums(%dy: tensor<2x8x16x16x64xf32>, %x: tensor<2x8x16x16x64xf32>, %mean: tensor<64xf32>)
    -> tensor<64xf64> {
  %zero = arith.constant 0.0 : f64
  %e = tensor.empty() : tensor<64xf64>
  %acc = linalg.fill ins(%zero : f64) outs(%e : tensor<64xf64>) -> tensor<64xf64>
  %s = linalg.generic {indexing_maps = [#pos, #pos, #ch, #ch],
                       iterator_types = ["reduction", "reduction", "reduction", "reduction", "parallel"]}
      ins(%dy, %x, %mean : tensor<2x8x16x16x64xf32>, tensor<2x8x16x16x64xf32>, tensor<64xf32>)
      outs(%acc : tensor<64xf64>) {
  ^bb0(%g: f32, %a: f32, %m: f32, %o: f64):
    %c = arith.subf %a, %m : f32
    %t = arith.mulf %g, %c : f32
    %w = arith.extf %t : f32 to f64
    %r = arith.addf %w, %o : f64
    linalg.yield %r : f64
  } -> tensor<64xf64>
  return %s : tensor<64xf64>
}

// -----

// Tests that two channel sums over the same positions that read the same tensor (the BN
// backward's dbeta of dy, then dgamma of dy and x, with dbeta's rounding to float32 and dgamma's
// zero init made between them) become one pass: the init is moved above, one generic sums both
// (dy read once) in 32 partials each, and each output's partials are added in order; the
// rounding of dbeta stays after it. A variance, which reads its mean's result, is not merged with
// the mean.
// CHECK-LABEL: func.func @sibling_sums
// CHECK-SAME: (%[[DY:.*]]: tensor<2x8x16x16x64xf32>, %[[X:.*]]: tensor<2x8x16x16x64xf32>
// CHECK: %[[PARTS:.*]]:2 = scf.forall (%[[P:.*]]) in (32) shared_outs(%{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}) -> (tensor<32x64xf64>, tensor<32x64xf64>)
// CHECK: linalg.generic {{.*}} ins(%{{.*}}, %{{.*}}, %{{.*}} : tensor<1x128x64xf32>, tensor<1x128x64xf32>, tensor<64xf32>) outs(%{{.*}}, %{{.*}} : tensor<1x64xf64>, tensor<1x64xf64>)
// CHECK: %[[DBETA:.*]] = linalg.generic {{.*}} ins(%[[PARTS]]#0 : tensor<32x64xf64>)
// CHECK: %[[DGAMMA:.*]] = linalg.generic {{.*}} ins(%[[PARTS]]#1 : tensor<32x64xf64>)
// CHECK: arith.truncf
// CHECK: scf.forall (%{{.*}}) in (32) shared_outs(%{{.*}} = %{{.*}}) -> (tensor<32x64xf64>)
// CHECK: scf.forall (%{{.*}}) in (32) shared_outs(%{{.*}} = %{{.*}}) -> (tensor<32x64xf64>)
// CHECK: return
#pos = affine_map<(n, d, h, w, c) -> (n, d, h, w, c)>
#ch = affine_map<(n, d, h, w, c) -> (c)>
#v = affine_map<(c) -> (c)>
func.func @sibling_sums(%dy: tensor<2x8x16x16x64xf32>, %x: tensor<2x8x16x16x64xf32>, %mean: tensor<64xf32>)
    -> (tensor<64xf32>, tensor<64xf64>, tensor<64xf64>) {
  %zero = arith.constant 0.0 : f64
  %e = tensor.empty() : tensor<64xf64>
  %acc = linalg.fill ins(%zero : f64) outs(%e : tensor<64xf64>) -> tensor<64xf64>
  %dbeta = linalg.generic {indexing_maps = [#pos, #ch],
                           iterator_types = ["reduction", "reduction", "reduction", "reduction", "parallel"]}
      ins(%dy : tensor<2x8x16x16x64xf32>) outs(%acc : tensor<64xf64>) {
  ^bb0(%g: f32, %o: f64):
    %w = arith.extf %g : f32 to f64
    %r = arith.addf %w, %o : f64
    linalg.yield %r : f64
  } -> tensor<64xf64>
  %e32 = tensor.empty() : tensor<64xf32>
  %dbeta32 = linalg.generic {indexing_maps = [#v, #v], iterator_types = ["parallel"]}
      ins(%dbeta : tensor<64xf64>) outs(%e32 : tensor<64xf32>) {
  ^bb0(%a: f64, %o: f32):
    %t = arith.truncf %a : f64 to f32
    linalg.yield %t : f32
  } -> tensor<64xf32>
  %e2 = tensor.empty() : tensor<64xf64>
  %acc2 = linalg.fill ins(%zero : f64) outs(%e2 : tensor<64xf64>) -> tensor<64xf64>
  %dgamma = linalg.generic {indexing_maps = [#pos, #pos, #ch, #ch],
                            iterator_types = ["reduction", "reduction", "reduction", "reduction", "parallel"]}
      ins(%dy, %x, %mean : tensor<2x8x16x16x64xf32>, tensor<2x8x16x16x64xf32>, tensor<64xf32>)
      outs(%acc2 : tensor<64xf64>) {
  ^bb0(%g: f32, %a: f32, %m: f32, %o: f64):
    %c = arith.subf %a, %m : f32
    %t = arith.mulf %g, %c : f32
    %w = arith.extf %t : f32 to f64
    %r = arith.addf %w, %o : f64
    linalg.yield %r : f64
  } -> tensor<64xf64>
  // mean of x, then the variance around it: the second reads the first's (rounded) result.
  %e3 = tensor.empty() : tensor<64xf64>
  %acc3 = linalg.fill ins(%zero : f64) outs(%e3 : tensor<64xf64>) -> tensor<64xf64>
  %sum = linalg.generic {indexing_maps = [#pos, #ch],
                         iterator_types = ["reduction", "reduction", "reduction", "reduction", "parallel"]}
      ins(%x : tensor<2x8x16x16x64xf32>) outs(%acc3 : tensor<64xf64>) {
  ^bb0(%a: f32, %o: f64):
    %w = arith.extf %a : f32 to f64
    %r = arith.addf %w, %o : f64
    linalg.yield %r : f64
  } -> tensor<64xf64>
  %e4 = tensor.empty() : tensor<64xf32>
  %mu = linalg.generic {indexing_maps = [#v, #v], iterator_types = ["parallel"]}
      ins(%sum : tensor<64xf64>) outs(%e4 : tensor<64xf32>) {
  ^bb0(%a: f64, %o: f32):
    %t = arith.truncf %a : f64 to f32
    linalg.yield %t : f32
  } -> tensor<64xf32>
  %e5 = tensor.empty() : tensor<64xf64>
  %acc5 = linalg.fill ins(%zero : f64) outs(%e5 : tensor<64xf64>) -> tensor<64xf64>
  %var = linalg.generic {indexing_maps = [#pos, #ch, #ch],
                         iterator_types = ["reduction", "reduction", "reduction", "reduction", "parallel"]}
      ins(%x, %mu : tensor<2x8x16x16x64xf32>, tensor<64xf32>) outs(%acc5 : tensor<64xf64>) {
  ^bb0(%a: f32, %m: f32, %o: f64):
    %c = arith.subf %a, %m : f32
    %t = arith.mulf %c, %c : f32
    %w = arith.extf %t : f32 to f64
    %r = arith.addf %w, %o : f64
    linalg.yield %r : f64
  } -> tensor<64xf64>
  return %dbeta32, %dgamma, %var : tensor<64xf32>, tensor<64xf64>, tensor<64xf64>
}

// -----

// Tests that a rank-2 sum over the leading dimension (1024 x 64) is split too (32 blocks of 32
// rows), and that a per-channel max over every position is left alone: started from zero per
// block and added up, its partials would not be its result.
// CHECK-LABEL: func.func @rows_and_max
// CHECK: %[[PARTS:.*]] = scf.forall (%{{.*}}) in (32) shared_outs(%{{.*}} = %{{.*}}) -> (tensor<32x64xf32>)
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "reduction", "parallel"]} ins(%{{.*}} : tensor<1x32x64xf32>)
// CHECK: linalg.generic {{.*}}iterator_types = ["reduction", "parallel"]} ins(%[[PARTS]] : tensor<32x64xf32>)
// CHECK-NOT: scf.forall
// CHECK: linalg.generic {{.*}}iterator_types = ["reduction", "parallel"]} ins(%{{.*}} : tensor<1024x64xf32>)
// CHECK: arith.maximumf
func.func @rows_and_max(%x: tensor<1024x64xf32>) -> (tensor<64xf32>, tensor<64xf32>) {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<64xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%e : tensor<64xf32>) -> tensor<64xf32>
  %sum = linalg.generic {indexing_maps = [affine_map<(p, c) -> (p, c)>, affine_map<(p, c) -> (c)>],
                         iterator_types = ["reduction", "parallel"]}
      ins(%x : tensor<1024x64xf32>) outs(%acc : tensor<64xf32>) {
  ^bb0(%a: f32, %o: f32):
    %s = arith.addf %a, %o : f32
    linalg.yield %s : f32
  } -> tensor<64xf32>
  %max = linalg.generic {indexing_maps = [affine_map<(p, c) -> (p, c)>, affine_map<(p, c) -> (c)>],
                         iterator_types = ["reduction", "parallel"]}
      ins(%x : tensor<1024x64xf32>) outs(%acc : tensor<64xf32>) {
  ^bb0(%a: f32, %o: f32):
    %m = arith.maximumf %a, %o : f32
    linalg.yield %m : f32
  } -> tensor<64xf32>
  return %sum, %max : tensor<64xf32>, tensor<64xf32>
}

// -----

// Tests that a transpose (the data gradient's sub-filter: taps flipped, the two channel
// dimensions swapped) is cut into 16 x 16 blocks of its channel dimensions, one tap each, so
// that the input rows one block reads stay in L1, and that each block is one vector read whose
// permutation map transposes it (from the flipped tap) and one write of its rows.
// CHECK: #[[FLIP:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (-d0 + 2)>
// CHECK: #[[SWAP:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d4, d3)>
// CHECK-LABEL: func.func @sub_filter
// CHECK: scf.forall (%[[KD:.*]], %[[KH:.*]], %[[KW:.*]], %[[F:.*]], %[[C:.*]]) = (0, 0, 0, 0, 0) to (3, 3, 3, 48, 64) step (1, 1, 1, 16, 16)
// CHECK-NOT: linalg.generic
// CHECK: %[[FD:.*]] = affine.apply #[[FLIP]](%[[KD]], %[[KH]], %[[KW]], %[[F]], %[[C]])
// CHECK: %[[BLOCK:.*]] = vector.transfer_read %{{.*}}[%[[FD]], %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}], %{{.*}} {in_bounds = [true, true], permutation_map = #[[SWAP]]} : tensor<3x3x3x64x48xf32>, vector<16x16xf32>
// CHECK: %[[OUT:.*]] = tensor.extract_slice %{{.*}}[%[[KD]], %[[KH]], %[[KW]], %[[F]], %[[C]]] [1, 1, 1, 16, 16]
// CHECK: %[[ROWS:.*]] = vector.transfer_write %[[BLOCK]], %[[OUT]]{{.*}} : vector<16x16xf32>, tensor<1x1x1x16x16xf32>
// CHECK: tensor.parallel_insert_slice %[[ROWS]] into %{{.*}}[%[[KD]], %[[KH]], %[[KW]], %[[F]], %[[C]]] [1, 1, 1, 16, 16]
#flip = affine_map<(d0, d1, d2, d3, d4) -> (-d0 + 2, -d1 + 2, -d2 + 2, d4, d3)>
#same = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>
func.func @sub_filter(%w: tensor<3x3x3x64x48xf32>) -> tensor<3x3x3x48x64xf32> {
  %e = tensor.empty() : tensor<3x3x3x48x64xf32>
  %t = linalg.generic {indexing_maps = [#flip, #same],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]}
      ins(%w : tensor<3x3x3x64x48xf32>) outs(%e : tensor<3x3x3x48x64xf32>) {
  ^bb0(%a: f32, %o: f32):
    linalg.yield %a : f32
  } -> tensor<3x3x3x48x64xf32>
  return %t : tensor<3x3x3x48x64xf32>
}

// -----

// Tests that a transpose whose channel dimensions are not multiples of 16 (40 x 120 out of
// 120 x 40) is split: the 32 x 112 part whose dimensions are takes the 16 x 16 vector blocks
// (on slices of the input and the output, the flipped taps whole), and the two strips left over
// (8 x 120 and 32 x 8, too small for a parallel loop) stay generics, each inserted into the result.
// CHECK-LABEL: func.func @odd_transpose(
// CHECK-SAME: %[[W:[^:]+]]: tensor<3x3x3x120x40xf32>)
// CHECK: %[[IN:.*]] = tensor.extract_slice %[[W]][0, 0, 0, 0, 0] [3, 3, 3, 112, 32] [1, 1, 1, 1, 1]
// CHECK: %[[OUT:.*]] = tensor.extract_slice %{{.*}}[0, 0, 0, 0, 0] [3, 3, 3, 32, 112] [1, 1, 1, 1, 1]
// CHECK: %[[BULK:.*]] = scf.forall ({{.*}}) = (0, 0, 0, 0, 0) to (3, 3, 3, 32, 112) step (1, 1, 1, 16, 16) shared_outs(%{{.*}} = %[[OUT]])
// CHECK: vector.transfer_read %[[IN]]
// CHECK: %[[R1:.*]] = tensor.insert_slice %[[BULK]] into %{{.*}}[0, 0, 0, 0, 0] [3, 3, 3, 32, 112]
// CHECK: %[[IN2:.*]] = tensor.extract_slice %[[W]][0, 0, 0, 0, 32] [3, 3, 3, 120, 8]
// CHECK: %[[OUT2:.*]] = tensor.extract_slice %[[R1]][0, 0, 0, 32, 0] [3, 3, 3, 8, 120]
// CHECK: %[[ROWS:.*]] = linalg.generic {{.*}} ins(%[[IN2]] : tensor<3x3x3x120x8xf32>) outs(%[[OUT2]] : tensor<3x3x3x8x120xf32>)
// CHECK: %[[R2:.*]] = tensor.insert_slice %[[ROWS]] into %[[R1]][0, 0, 0, 32, 0] [3, 3, 3, 8, 120]
// CHECK: %[[IN3:.*]] = tensor.extract_slice %[[W]][0, 0, 0, 112, 0] [3, 3, 3, 8, 32]
// CHECK: %[[OUT3:.*]] = tensor.extract_slice %[[R2]][0, 0, 0, 0, 112] [3, 3, 3, 32, 8]
// CHECK: %[[COLS:.*]] = linalg.generic {{.*}} ins(%[[IN3]] : tensor<3x3x3x8x32xf32>) outs(%[[OUT3]] : tensor<3x3x3x32x8xf32>)
// CHECK: %[[R3:.*]] = tensor.insert_slice %[[COLS]] into %[[R2]][0, 0, 0, 0, 112] [3, 3, 3, 32, 8]
// CHECK: return %[[R3]]
#flip2 = affine_map<(d0, d1, d2, d3, d4) -> (-d0 + 2, -d1 + 2, -d2 + 2, d4, d3)>
#same2 = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>
func.func @odd_transpose(%w: tensor<3x3x3x120x40xf32>) -> tensor<3x3x3x40x120xf32> {
  %e = tensor.empty() : tensor<3x3x3x40x120xf32>
  %t = linalg.generic {indexing_maps = [#flip2, #same2],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]}
      ins(%w : tensor<3x3x3x120x40xf32>) outs(%e : tensor<3x3x3x40x120xf32>) {
  ^bb0(%a: f32, %o: f32):
    linalg.yield %a : f32
  } -> tensor<3x3x3x40x120xf32>
  return %t : tensor<3x3x3x40x120xf32>
}

// -----

// Tests that a transposing pack (the data gradient's packed sub-filter, read straight from the
// filter: [C/32][taps][F][32] from [taps][C][F], C at 32 * block + lane) is vectorized too: the
// lane dimension steps the filter's C index by one, the F dimension its F index.
// CHECK: #[[LANE:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0 * 32 + d5)>
// CHECK: #[[SWAP:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d4, d3)>
// CHECK-LABEL: func.func @transposing_pack
// CHECK: scf.forall (%[[B:.*]], %[[KD:.*]], %[[KH:.*]], %[[KW:.*]], %[[F:.*]], %[[L:.*]]) = (0, 0, 0, 0, 0, 0) to (4, 3, 3, 3, 64, 32) step (1, 1, 1, 1, 16, 16)
// CHECK: %[[C:.*]] = affine.apply #[[LANE]](%[[B]], %[[KD]], %[[KH]], %[[KW]], %[[F]], %[[L]])
// CHECK: vector.transfer_read %{{.*}}[%{{.*}}, %{{.*}}, %{{.*}}, %[[C]], %{{.*}}], %{{.*}} {in_bounds = [true, true], permutation_map = #[[SWAP]]} : tensor<3x3x3x128x64xf32>, vector<16x16xf32>
// CHECK: vector.transfer_write {{.*}} : vector<16x16xf32>, tensor<1x1x1x1x16x16xf32>
#pack_read = affine_map<(d0, d1, d2, d3, d4, d5) -> (-d1 + 2, -d2 + 2, -d3 + 2, d0 * 32 + d5, d4)>
#pack_same = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d3, d4, d5)>
func.func @transposing_pack(%w: tensor<3x3x3x128x64xf32>) -> tensor<4x3x3x3x64x32xf32> {
  %e = tensor.empty() : tensor<4x3x3x3x64x32xf32>
  %t = linalg.generic {indexing_maps = [#pack_read, #pack_same],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "parallel"]}
      ins(%w : tensor<3x3x3x128x64xf32>) outs(%e : tensor<4x3x3x3x64x32xf32>) {
  ^bb0(%a: f32, %o: f32):
    linalg.yield %a : f32
  } -> tensor<4x3x3x3x64x32xf32>
  return %t : tensor<4x3x3x3x64x32xf32>
}

// -----

// Tests that copies whose indices do not step by one with the blocked dimensions stay copies
// element by element: a flipped channel dimension (-d3 + 63, then not a transpose: tiled row by
// row) and a strided one (2 * d4, in 16 x 16 blocks).
// CHECK-LABEL: func.func @not_unit_steps
// CHECK-NOT: vector.transfer_read
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<1x1x1x1x64xf32>)
// CHECK-NOT: vector.transfer_read
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<1x1x1x16x16xf32>)
// CHECK-NOT: vector.transfer_read
// CHECK: return
#flip_c = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4, -d3 + 63)>
#stride_c = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4 * 2, d3)>
#same3 = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>
func.func @not_unit_steps(%w: tensor<3x3x3x64x64xf32>, %v: tensor<3x3x3x128x64xf32>)
    -> (tensor<3x3x3x64x64xf32>, tensor<3x3x3x64x64xf32>) {
  %e = tensor.empty() : tensor<3x3x3x64x64xf32>
  %a = linalg.generic {indexing_maps = [#flip_c, #same3],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]}
      ins(%w : tensor<3x3x3x64x64xf32>) outs(%e : tensor<3x3x3x64x64xf32>) {
  ^bb0(%x: f32, %o: f32):
    linalg.yield %x : f32
  } -> tensor<3x3x3x64x64xf32>
  %b = linalg.generic {indexing_maps = [#stride_c, #same3],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]}
      ins(%v : tensor<3x3x3x128x64xf32>) outs(%e : tensor<3x3x3x64x64xf32>) {
  ^bb0(%x: f32, %o: f32):
    linalg.yield %x : f32
  } -> tensor<3x3x3x64x64xf32>
  return %a, %b : tensor<3x3x3x64x64xf32>, tensor<3x3x3x64x64xf32>
}
