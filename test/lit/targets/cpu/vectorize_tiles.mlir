// RUN: vidnet-opt --vidnet-cpu-vectorize-tiles %s | FileCheck %s
// RUN: vidnet-opt --vidnet-cpu-vectorize-tiles --loop-invariant-subset-hoisting --canonicalize %s | FileCheck %s --check-prefix=HOIST
// RUN: vidnet-opt --vidnet-cpu-vectorize-tiles=vector-bits=256 --canonicalize --cse %s | FileCheck %s --check-prefix=AVX2

// Tests that a register-sized matmul tile becomes one vector.fma per (row, k) on 32-lane
// rows, with each A element read as a scalar and broadcast (no lane shuffles), and that
// nothing else is vectorized: the big matmul stays a linalg op (vectorizing untiled ops
// blows up compile memory).
// CHECK-LABEL: func.func @tile
// CHECK-NOT: vector<8x4xf32>
// CHECK: %[[A:.*]] = tensor.extract %{{.*}} : tensor<8x4xf32>
// CHECK: vector.broadcast %[[A]] : f32 to vector<32xf32>
// CHECK: vector.fma %{{.*}}, %{{.*}}, %{{.*}} : vector<32xf32>
// CHECK-COUNT-31: vector.fma
// CHECK-NOT: vector.fma
// CHECK: vector.transfer_write {{.*}} : vector<8x32xf32>, tensor<8x32xf32>
// CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<64x64xf32>, tensor<64x64xf32>)

// After hoisting, the accumulator is a vector carried by the reduction loop: registers.
// HOIST-LABEL: func.func @tile
// HOIST: %[[ACC:.*]] = vector.transfer_read %{{.*}} : tensor<8x32xf32>, vector<8x32xf32>
// HOIST: scf.for {{.*}} iter_args(%{{.*}} = %[[ACC]]) -> (vector<8x32xf32>)
// HOIST: vector.fma
// HOIST: scf.yield %{{.*}} : vector<8x32xf32>
// HOIST: vector.transfer_write
func.func @tile(%a: tensor<8x16xf32>, %b: tensor<16x32xf32>, %acc: tensor<8x32xf32>,
                %big_a: tensor<64x64xf32>, %big_b: tensor<64x64xf32>, %big_c: tensor<64x64xf32>)
    -> (tensor<8x32xf32>, tensor<64x64xf32>) {
  %c0 = arith.constant 0 : index
  %c4 = arith.constant 4 : index
  %c16 = arith.constant 16 : index
  %r = scf.for %k = %c0 to %c16 step %c4 iter_args(%c = %acc) -> (tensor<8x32xf32>) {
    %as = tensor.extract_slice %a[0, %k] [8, 4] [1, 1] : tensor<8x16xf32> to tensor<8x4xf32>
    %bs = tensor.extract_slice %b[%k, 0] [4, 32] [1, 1] : tensor<16x32xf32> to tensor<4x32xf32>
    %m = linalg.matmul ins(%as, %bs : tensor<8x4xf32>, tensor<4x32xf32>) outs(%c : tensor<8x32xf32>) -> tensor<8x32xf32>
    scf.yield %m : tensor<8x32xf32>
  }
  %big = linalg.matmul ins(%big_a, %big_b : tensor<64x64xf32>, tensor<64x64xf32>) outs(%big_c : tensor<64x64xf32>) -> tensor<64x64xf32>
  return %r, %big : tensor<8x32xf32>, tensor<64x64xf32>
}

// Tests that the two-level sum's register tiles are vectorized too: the zero tile a row of taps
// starts from becomes a constant vector carried by its loop, and adding that row into the
// output tile is one vector add; a large fill or add stays a linalg op.
// HOIST-LABEL: func.func @two_level
// HOIST: %[[ZERO:.*]] = arith.constant dense<0.000000e+00> : vector<8x32xf32>
// HOIST: %[[ROW:.*]] = scf.for {{.*}} iter_args(%{{.*}} = %[[ZERO]]) -> (vector<8x32xf32>)
// HOIST: vector.fma
// HOIST: %[[ACC:.*]] = vector.transfer_read %{{.*}} : tensor<8x32xf32>, vector<8x32xf32>
// HOIST: arith.addf %[[ACC]], %[[ROW]] : vector<8x32xf32>
// HOIST: linalg.fill ins(%{{.*}} : f32) outs(%{{.*}} : tensor<64x64xf32>)
// HOIST: linalg.add ins(%{{.*}}, %{{.*}} : tensor<64x64xf32>, tensor<64x64xf32>)
func.func @two_level(%a: tensor<8x16xf32>, %b: tensor<16x32xf32>, %acc: tensor<8x32xf32>, %big: tensor<64x64xf32>)
    -> (tensor<8x32xf32>, tensor<64x64xf32>) {
  %c0 = arith.constant 0 : index
  %c4 = arith.constant 4 : index
  %c16 = arith.constant 16 : index
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<8x32xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<8x32xf32>) -> tensor<8x32xf32>
  %row = scf.for %k = %c0 to %c16 step %c4 iter_args(%c = %z) -> (tensor<8x32xf32>) {
    %as = tensor.extract_slice %a[0, %k] [8, 4] [1, 1] : tensor<8x16xf32> to tensor<8x4xf32>
    %bs = tensor.extract_slice %b[%k, 0] [4, 32] [1, 1] : tensor<16x32xf32> to tensor<4x32xf32>
    %m = linalg.matmul ins(%as, %bs : tensor<8x4xf32>, tensor<4x32xf32>) outs(%c : tensor<8x32xf32>) -> tensor<8x32xf32>
    scf.yield %m : tensor<8x32xf32>
  }
  %sum = linalg.add ins(%acc, %row : tensor<8x32xf32>, tensor<8x32xf32>) outs(%acc : tensor<8x32xf32>) -> tensor<8x32xf32>
  %be = tensor.empty() : tensor<64x64xf32>
  %bz = linalg.fill ins(%zero : f32) outs(%be : tensor<64x64xf32>) -> tensor<64x64xf32>
  %bsum = linalg.add ins(%big, %bz : tensor<64x64xf32>, tensor<64x64xf32>) outs(%big : tensor<64x64xf32>) -> tensor<64x64xf32>
  return %sum, %bsum : tensor<8x32xf32>, tensor<64x64xf32>
}

// Tests that a conv tile's epilogue (tagged by vidnet-cpu-tile-convs) becomes vector ops on the
// whole tile, its per-channel inputs broadcast across the rows, in float64 where its body is,
// while the same elementwise op without the tag stays a linalg op.
// CHECK-LABEL: func.func @epilogue
// CHECK: vector.transfer_read %{{.*}} : tensor<8x32xf32>, vector<8x32xf32>
// CHECK: %[[S:.*]] = vector.transfer_read %{{.*}} : tensor<32xf64>, vector<32xf64>
// CHECK: vector.broadcast %[[S]] : vector<32xf64> to vector<8x32xf64>
// CHECK: arith.extf %{{.*}} : vector<8x32xf32> to vector<8x32xf64>
// CHECK: arith.mulf %{{.*}}, %{{.*}} : vector<8x32xf64>
// CHECK: arith.truncf %{{.*}} : vector<8x32xf64> to vector<8x32xf32>
// CHECK: arith.maximumf %{{.*}}, %{{.*}} : vector<8x32xf32>
// CHECK: vector.transfer_write %{{.*}} : vector<8x32xf32>, tensor<8x32xf32>
// CHECK: linalg.generic
// CHECK-NOT: vidnet.epilogue
#epi_row = affine_map<(r, l) -> (r, l)>
#epi_lane = affine_map<(r, l) -> (l)>
func.func @epilogue(%tile: tensor<8x32xf32>, %scale: tensor<32xf64>) -> (tensor<8x32xf32>, tensor<8x32xf32>) {
  %zero = arith.constant 0.0 : f32
  %e = linalg.generic {indexing_maps = [#epi_row, #epi_lane, #epi_row], iterator_types = ["parallel", "parallel"]}
       ins(%tile, %scale : tensor<8x32xf32>, tensor<32xf64>) outs(%tile : tensor<8x32xf32>) attrs = {vidnet.epilogue} {
  ^bb0(%v: f32, %s: f64, %out: f32):
    %vd = arith.extf %v : f32 to f64
    %m = arith.mulf %vd, %s : f64
    %t = arith.truncf %m : f64 to f32
    %r = arith.maximumf %t, %zero : f32
    linalg.yield %r : f32
  } -> tensor<8x32xf32>
  %plain = linalg.generic {indexing_maps = [#epi_row, #epi_lane, #epi_row], iterator_types = ["parallel", "parallel"]}
       ins(%tile, %scale : tensor<8x32xf32>, tensor<32xf64>) outs(%tile : tensor<8x32xf32>) {
  ^bb0(%v: f32, %s: f64, %out: f32):
    %vd = arith.extf %v : f32 to f64
    %m = arith.mulf %vd, %s : f64
    %t = arith.truncf %m : f64 to f32
    linalg.yield %t : f32
  } -> tensor<8x32xf32>
  return %e, %plain : tensor<8x32xf32>, tensor<8x32xf32>
}

// Tests that a 16 x 16 block read transposed (vidnet-cpu-parallelize-elementwise's transposes)
// becomes a row read and AVX-512-style shuffles, not 256 lane extracts and inserts.
// CHECK-LABEL: func.func @transpose_block
// CHECK-NOT: vector.transpose
// CHECK-NOT: vector.extract {{.*}} : f32 from
// CHECK: vector.shuffle
// CHECK-NOT: vector.transpose
// CHECK: vector.transfer_write {{.*}} : vector<16x16xf32>, tensor<16x16xf32>
func.func @transpose_block(%w: tensor<64x64xf32>, %out: tensor<16x16xf32>, %i: index, %j: index) -> tensor<16x16xf32> {
  %c0 = arith.constant 0 : index
  %pad = arith.constant 0.0 : f32
  %block = vector.transfer_read %w[%i, %j], %pad {in_bounds = [true, true], permutation_map = affine_map<(d0, d1) -> (d1, d0)>}
      : tensor<64x64xf32>, vector<16x16xf32>
  %r = vector.transfer_write %block, %out[%c0, %c0] {in_bounds = [true, true]} : vector<16x16xf32>, tensor<16x16xf32>
  return %r : tensor<16x16xf32>
}

// Tests that with AVX2 registers (8 lanes) a tile of 24 lanes, three registers, is unrolled into
// one-register rows (LLVM widens a <24 x float> to 32 lanes and moves it through the stack),
// and that each A element's broadcast serves the three registers of its row before the next
// row's: k outermost, then rows, then registers. A 32-lane tile (a power of two of registers)
// is left whole for LLVM to split.
// AVX2-LABEL: func.func @three_registers
// AVX2-NOT: vector<4x24xf32>
// AVX2-NOT: vector<24xf32>
// AVX2: %[[A00:.*]] = tensor.extract %{{.*}}[%c0, %c0] : tensor<4x8xf32>
// AVX2: %[[B00:.*]] = vector.broadcast %[[A00]] : f32 to vector<8xf32>
// AVX2-NOT: tensor.extract
// AVX2: vector.fma %[[B00]], %{{.*}}, %{{.*}} : vector<8xf32>
// AVX2-NOT: tensor.extract
// AVX2: vector.fma %[[B00]], %{{.*}}, %{{.*}} : vector<8xf32>
// AVX2-NOT: tensor.extract
// AVX2: vector.fma %[[B00]], %{{.*}}, %{{.*}} : vector<8xf32>
// AVX2: tensor.extract %{{.*}}[%c1, %c0] : tensor<4x8xf32>
// AVX2-COUNT-3: vector.fma
// AVX2: tensor.extract %{{.*}}[%c2, %c0] : tensor<4x8xf32>
// AVX2-COUNT-3: vector.fma
// AVX2: tensor.extract %{{.*}}[%c3, %c0] : tensor<4x8xf32>
// AVX2-COUNT-3: vector.fma
// AVX2: tensor.extract %{{.*}}[%c0, %c1] : tensor<4x8xf32>
// AVX2-COUNT-84: vector.fma
// AVX2-NOT: vector.fma
// AVX2-COUNT-12: vector.transfer_write %{{.*}} : vector<1x8xf32>, tensor<4x24xf32>
// AVX2-NOT: vector<4x24xf32>
// AVX2-LABEL: func.func @two_registers
// AVX2: vector.transfer_read %{{.*}} : tensor<6x16xf32>, vector<6x16xf32>
// AVX2: vector.fma %{{.*}}, %{{.*}}, %{{.*}} : vector<16xf32>
func.func @three_registers(%a: tensor<4x8xf32>, %b: tensor<8x24xf32>, %acc: tensor<4x24xf32>) -> tensor<4x24xf32> {
  %m = linalg.matmul ins(%a, %b : tensor<4x8xf32>, tensor<8x24xf32>) outs(%acc : tensor<4x24xf32>) -> tensor<4x24xf32>
  return %m : tensor<4x24xf32>
}
func.func @two_registers(%a: tensor<6x8xf32>, %b: tensor<8x16xf32>, %acc: tensor<6x16xf32>) -> tensor<6x16xf32> {
  %m = linalg.matmul ins(%a, %b : tensor<6x8xf32>, tensor<8x16xf32>) outs(%acc : tensor<6x16xf32>) -> tensor<6x16xf32>
  return %m : tensor<6x16xf32>
}
