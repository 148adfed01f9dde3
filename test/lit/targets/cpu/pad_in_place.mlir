// RUN: vidnet-opt --pass-pipeline='builtin.module(func.func(vidnet-cpu-pad-in-place))' %s | FileCheck %s
// RUN: vidnet-opt --pass-pipeline='builtin.module(func.func(vidnet-cpu-pad-in-place),one-shot-bufferize{bufferize-function-boundaries},cse,canonicalize)' %s | FileCheck %s --check-prefix=BUF

#id = affine_map<(a, b, c, d, e) -> (a, b, c, d, e)>

// Tests that a ReLU whose result the next conv reads zero-padded writes into the interior of
// the padded tensor, a zero fill marked with that interior (offsets, then sizes) for
// vidnet-cpu-zero-borders, and that its other reader (a residual add) reads the same interior.
// Bufferized (and the self-copies of in-place insert_slices folded away), nothing is copied.
// CHECK-LABEL: func.func @relu_then_pad
// CHECK: %[[E:.*]] = tensor.empty() : tensor<1x6x10x10x16xf32>
// CHECK: %[[P:.*]] = linalg.fill {vidnet.interior = array<i64: 0, 1, 1, 1, 0, 1, 4, 8, 8, 16>} ins(%{{.*}} : f32) outs(%[[E]] : tensor<1x6x10x10x16xf32>)
// CHECK: %[[IN:.*]] = tensor.extract_slice %[[P]][0, 1, 1, 1, 0] [1, 4, 8, 8, 16] [1, 1, 1, 1, 1]
// CHECK: %[[R:.*]] = linalg.generic {{.*}} outs(%[[IN]] : tensor<1x4x8x8x16xf32>)
// CHECK: %[[WHOLE:.*]] = tensor.insert_slice %[[R]] into %[[P]][0, 1, 1, 1, 0] [1, 4, 8, 8, 16] [1, 1, 1, 1, 1]
// CHECK: %[[VIEW:.*]] = tensor.extract_slice %[[WHOLE]][0, 1, 1, 1, 0] [1, 4, 8, 8, 16] [1, 1, 1, 1, 1]
// CHECK-NOT: tensor.pad
// CHECK: return %[[WHOLE]], %[[VIEW]]
// BUF-LABEL: func.func @relu_then_pad
// BUF-NOT: memref.copy
// BUF-NOT: linalg.copy
// BUF: return
func.func @relu_then_pad(%x: tensor<1x4x8x8x16xf32>) -> (tensor<1x6x10x10x16xf32>, tensor<1x4x8x8x16xf32>) {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x4x8x8x16xf32>
  %r = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]}
       ins(%x : tensor<1x4x8x8x16xf32>) outs(%e : tensor<1x4x8x8x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.maximumf %in, %zero : f32
    linalg.yield %m : f32
  } -> tensor<1x4x8x8x16xf32>
  %p = tensor.pad %r low[0, 1, 1, 1, 0] high[0, 1, 1, 1, 0] {
  ^bb0(%a: index, %b: index, %c: index, %d: index, %f: index):
    tensor.yield %zero : f32
  } : tensor<1x4x8x8x16xf32> to tensor<1x6x10x10x16xf32>
  return %p, %r : tensor<1x6x10x10x16xf32>, tensor<1x4x8x8x16xf32>
}

// Tests that pads stay pads where the producer cannot write into them: the source is an
// argument; the producer's init holds values (it accumulates); the padding value is not +0.
// CHECK-LABEL: func.func @left_alone
// CHECK-COUNT-3: tensor.pad
// CHECK-NOT: tensor.insert_slice
// CHECK-NOT: vidnet.interior
func.func @left_alone(%x: tensor<4x8xf32>, %acc: tensor<4x8xf32>) -> (tensor<6x10xf32>, tensor<6x10xf32>, tensor<6x10xf32>) {
  %zero = arith.constant 0.0 : f32
  %negzero = arith.constant -0.0 : f32
  %p0 = tensor.pad %x low[1, 1] high[1, 1] {
  ^bb0(%a: index, %b: index):
    tensor.yield %zero : f32
  } : tensor<4x8xf32> to tensor<6x10xf32>
  %sum = linalg.add ins(%x, %x : tensor<4x8xf32>, tensor<4x8xf32>) outs(%acc : tensor<4x8xf32>) -> tensor<4x8xf32>
  %p1 = tensor.pad %sum low[1, 1] high[1, 1] {
  ^bb0(%a: index, %b: index):
    tensor.yield %zero : f32
  } : tensor<4x8xf32> to tensor<6x10xf32>
  %e = tensor.empty() : tensor<4x8xf32>
  %twice = linalg.add ins(%x, %x : tensor<4x8xf32>, tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) -> tensor<4x8xf32>
  %p2 = tensor.pad %twice low[1, 1] high[1, 1] {
  ^bb0(%a: index, %b: index):
    tensor.yield %negzero : f32
  } : tensor<4x8xf32> to tensor<6x10xf32>
  return %p0, %p1, %p2 : tensor<6x10xf32>, tensor<6x10xf32>, tensor<6x10xf32>
}

// Tests that a forall (a conv's tiles with their BN/ReLU epilogue; scf.forall is
// destination-style) writes into the padded tensor's interior the same way: its shared output
// becomes that interior, and bufferized nothing is copied.
// CHECK-LABEL: func.func @forall_then_pad
// CHECK: %[[P:.*]] = linalg.fill {vidnet.interior = array<i64: 1, 1, 4, 8>}
// CHECK: %[[IN:.*]] = tensor.extract_slice %[[P]][1, 1] [4, 8] [1, 1]
// CHECK: %[[R:.*]] = scf.forall (%{{.*}}) in (4) shared_outs(%{{.*}} = %[[IN]])
// CHECK: %[[WHOLE:.*]] = tensor.insert_slice %[[R]] into %[[P]][1, 1] [4, 8] [1, 1]
// CHECK-NOT: tensor.pad
// CHECK: return %[[WHOLE]]
// BUF-LABEL: func.func @forall_then_pad
// BUF-NOT: memref.copy
// BUF-NOT: linalg.copy
// BUF: return
func.func @forall_then_pad(%x: tensor<4x8xf32>) -> tensor<6x10xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4x8xf32>
  %r = scf.forall (%i) in (4) shared_outs(%o = %e) -> (tensor<4x8xf32>) {
    %row = tensor.extract_slice %x[%i, 0] [1, 8] [1, 1] : tensor<4x8xf32> to tensor<8xf32>
    %dst = tensor.extract_slice %o[%i, 0] [1, 8] [1, 1] : tensor<4x8xf32> to tensor<8xf32>
    %m = linalg.generic {indexing_maps = [affine_map<(d) -> (d)>, affine_map<(d) -> (d)>], iterator_types = ["parallel"]}
         ins(%row : tensor<8xf32>) outs(%dst : tensor<8xf32>) {
    ^bb0(%in: f32, %out: f32):
      %v = arith.maximumf %in, %zero : f32
      linalg.yield %v : f32
    } -> tensor<8xf32>
    scf.forall.in_parallel {
      tensor.parallel_insert_slice %m into %o[%i, 0] [1, 8] [1, 1] : tensor<8xf32> into tensor<4x8xf32>
    }
  }
  %p = tensor.pad %r low[1, 1] high[1, 1] {
  ^bb0(%a: index, %b: index):
    tensor.yield %zero : f32
  } : tensor<4x8xf32> to tensor<6x10xf32>
  return %p : tensor<6x10xf32>
}

// Tests that the chain is followed through a loop that continues another's writes (a conv's
// 32-lane tiles, then its 16-lane tiles into their result): the first loop's init becomes the
// interior, the second writes on into it, and bufferized nothing is copied.
// CHECK-LABEL: func.func @two_foralls_then_pad
// CHECK: %[[P:.*]] = linalg.fill {vidnet.interior = array<i64: 1, 0, 4, 48>}
// CHECK: %[[IN:.*]] = tensor.extract_slice %[[P]][1, 0] [4, 48] [1, 1]
// CHECK: %[[A:.*]] = scf.forall (%{{.*}}) in (4) shared_outs(%{{.*}} = %[[IN]])
// CHECK: %[[B:.*]] = scf.forall (%{{.*}}) in (4) shared_outs(%{{.*}} = %[[A]])
// CHECK: %[[WHOLE:.*]] = tensor.insert_slice %[[B]] into %[[P]][1, 0] [4, 48] [1, 1]
// CHECK-NOT: tensor.pad
// CHECK: return %[[WHOLE]]
// BUF-LABEL: func.func @two_foralls_then_pad
// BUF-NOT: memref.copy
// BUF-NOT: linalg.copy
// BUF: return
func.func @two_foralls_then_pad(%x: tensor<4x48xf32>) -> tensor<6x48xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4x48xf32>
  %a = scf.forall (%i) in (4) shared_outs(%o = %e) -> (tensor<4x48xf32>) {
    %row = tensor.extract_slice %x[%i, 0] [1, 32] [1, 1] : tensor<4x48xf32> to tensor<32xf32>
    %dst = tensor.extract_slice %o[%i, 0] [1, 32] [1, 1] : tensor<4x48xf32> to tensor<32xf32>
    %m = linalg.generic {indexing_maps = [affine_map<(d) -> (d)>, affine_map<(d) -> (d)>], iterator_types = ["parallel"]}
         ins(%row : tensor<32xf32>) outs(%dst : tensor<32xf32>) {
    ^bb0(%in: f32, %out: f32):
      %v = arith.maximumf %in, %zero : f32
      linalg.yield %v : f32
    } -> tensor<32xf32>
    scf.forall.in_parallel {
      tensor.parallel_insert_slice %m into %o[%i, 0] [1, 32] [1, 1] : tensor<32xf32> into tensor<4x48xf32>
    }
  }
  %b = scf.forall (%i) in (4) shared_outs(%o = %a) -> (tensor<4x48xf32>) {
    %row = tensor.extract_slice %x[%i, 32] [1, 16] [1, 1] : tensor<4x48xf32> to tensor<16xf32>
    %dst = tensor.extract_slice %o[%i, 32] [1, 16] [1, 1] : tensor<4x48xf32> to tensor<16xf32>
    %m = linalg.generic {indexing_maps = [affine_map<(d) -> (d)>, affine_map<(d) -> (d)>], iterator_types = ["parallel"]}
         ins(%row : tensor<16xf32>) outs(%dst : tensor<16xf32>) {
    ^bb0(%in: f32, %out: f32):
      %v = arith.maximumf %in, %zero : f32
      linalg.yield %v : f32
    } -> tensor<16xf32>
    scf.forall.in_parallel {
      tensor.parallel_insert_slice %m into %o[%i, 32] [1, 16] [1, 1] : tensor<16xf32> into tensor<4x48xf32>
    }
  }
  %p = tensor.pad %b low[1, 0] high[1, 0] {
  ^bb0(%r: index, %c: index):
    tensor.yield %zero : f32
  } : tensor<4x48xf32> to tensor<6x48xf32>
  return %p : tensor<6x48xf32>
}
