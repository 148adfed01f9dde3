// RUN: vidnet-opt --vidnet-cpu-hoist-weight-packing %s | FileCheck %s
// RUN: vidnet-opt --vidnet-cpu-hoist-weight-packing --vidnet-export-abi %s | FileCheck %s --check-prefix=ABI

// Tests that a weight pack (vidnet.weight_pack) that reads only weights, here through a copy and
// a zero pad whose zero comes from above its region, moves with them into @forward_prepare, whose
// arguments are forward's after the clips with the same attributes; forward reads the packed
// filter as a trailing `vidnet.prepared` argument and keeps no trace of the copy, the pad or the
// pack. A tagged op that reads the clips stays where it is.
// CHECK-LABEL: func.func @forward(
// CHECK-SAME: %[[X:[^:]*]]: tensor<1x2x4x4x3xf32>
// CHECK-SAME: %[[PACKED:[^:]*]]: tensor<2x1x1x1x3x32xf32> {vidnet.prepared})
// CHECK-NOT: tensor.pad
// CHECK: linalg.generic {{.*}} ins(%[[X]] : tensor<1x2x4x4x3xf32>)
// CHECK-SAME: vidnet.weight_pack
// CHECK: linalg.generic {{.*}} ins(%{{.*}}, %[[PACKED]] :
// CHECK: return
// CHECK-LABEL: func.func @forward_prepare(
// CHECK-SAME: %[[W:[^:]*]]: tensor<1x1x1x3x40xf32> {vidnet.name = "stem.0.weight"}
// CHECK-SAME: %{{[^:]*}}: tensor<5xf32> {vidnet.name = "stem.1.running_mean", vidnet.state})
// CHECK-SAME: -> tensor<2x1x1x1x3x32xf32>
// CHECK: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK: %[[COPY:.*]] = linalg.generic {{.*}} ins(%[[W]] :
// CHECK: %[[PAD:.*]] = tensor.pad %[[COPY]] low[0, 0, 0, 0, 0] high[0, 0, 0, 0, 24]
// CHECK: tensor.yield %[[ZERO]]
// CHECK: %[[PACK:.*]] = linalg.generic {{.*}} ins(%[[PAD]] : tensor<1x1x1x3x64xf32>)
// CHECK-SAME: vidnet.weight_pack
// CHECK: return %[[PACK]]

// On the CPU, forward reads a prepared buffer after the state; the prepare entry point writes it
// from the weight buffers, and a third function returns its size (2 x 3 x 32 floats).
// ABI-LABEL: func.func @vidnet_forward(
// ABI-SAME: {vidnet.abi = "clips"}, %{{.*}}: memref<120xf32> {vidnet.abi = "params"}, %{{.*}}: memref<5xf32> {vidnet.abi = "state"}, %[[P:.*]]: memref<192xf32> {vidnet.abi = "prepared"}, %{{.*}}: memref<1x2x4x4x32xf32> {vidnet.abi = "logits"})
// ABI: memref.reinterpret_cast %[[P]] to offset: [0], sizes: [2, 1, 1, 1, 3, 32]
// ABI-LABEL: func.func @vidnet_forward_prepare(
// ABI-SAME: %{{.*}}: memref<120xf32> {vidnet.abi = "params"}, %{{.*}}: memref<5xf32> {vidnet.abi = "state"}, %[[OUT:.*]]: memref<192xf32> {vidnet.abi = "prepared"})
// ABI: %[[SLOT:.*]] = memref.reinterpret_cast %[[OUT]] to offset: [0], sizes: [2, 1, 1, 1, 3, 32]
// ABI: bufferization.materialize_in_destination %{{.*}} in restrict writable %[[SLOT]]
// ABI-LABEL: func.func @vidnet_forward_prepared_elements() -> i64
// ABI: %[[N:.*]] = arith.constant 192 : i64
// ABI: return %[[N]]
#id5 = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>
#pack = affine_map<(d0, d1, d2, d3, d4, d5) -> (d1, d2, d3, d4, d0 * 32 + d5)>
#id6 = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d3, d4, d5)>
func.func @forward(%x: tensor<1x2x4x4x3xf32> {vidnet.name = "input"},
                   %w: tensor<1x1x1x3x40xf32> {vidnet.name = "stem.0.weight"},
                   %m: tensor<5xf32> {vidnet.name = "stem.1.running_mean", vidnet.state}) -> tensor<1x2x4x4x32xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x1x1x3x40xf32>
  %copy = linalg.generic {indexing_maps = [#id5, #id5], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]}
      ins(%w : tensor<1x1x1x3x40xf32>) outs(%e : tensor<1x1x1x3x40xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<1x1x1x3x40xf32>
  %pad = tensor.pad %copy low[0, 0, 0, 0, 0] high[0, 0, 0, 0, 24] {
  ^bb0(%a: index, %b: index, %c: index, %d: index, %f: index):
    tensor.yield %zero : f32
  } : tensor<1x1x1x3x40xf32> to tensor<1x1x1x3x64xf32>
  %pe = tensor.empty() : tensor<2x1x1x1x3x32xf32>
  %packed = linalg.generic {indexing_maps = [#pack, #id6], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "parallel"]}
      ins(%pad : tensor<1x1x1x3x64xf32>) outs(%pe : tensor<2x1x1x1x3x32xf32>) attrs = {vidnet.weight_pack} {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<2x1x1x1x3x32xf32>
  %xe = tensor.empty() : tensor<1x2x4x4x3xf32>
  %xc = linalg.generic {indexing_maps = [#id5, #id5], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]}
      ins(%x : tensor<1x2x4x4x3xf32>) outs(%xe : tensor<1x2x4x4x3xf32>) attrs = {vidnet.weight_pack} {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<1x2x4x4x3xf32>
  // Stands for the conv's tiles: reads the clips' copy and the packed filter.
  %ye = tensor.empty() : tensor<1x2x4x4x32xf32>
  %y = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, 0)>,
                                        affine_map<(d0, d1, d2, d3, d4) -> (0, 0, 0, 0, 0, d4)>, #id5],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]}
      ins(%xc, %packed : tensor<1x2x4x4x3xf32>, tensor<2x1x1x1x3x32xf32>) outs(%ye : tensor<1x2x4x4x32xf32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %s = arith.addf %a, %b : f32
    linalg.yield %s : f32
  } -> tensor<1x2x4x4x32xf32>
  return %y : tensor<1x2x4x4x32xf32>
}
