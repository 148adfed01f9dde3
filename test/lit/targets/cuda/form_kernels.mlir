// RUN: %vidnet-opt --split-input-file --verify-diagnostics --vidnet-cuda-form-kernels %s | FileCheck %s --implicit-check-not=linalg.generic
// RUN: echo 'func.func private @external(memref<4xf32>)' | %vidnet-opt --vidnet-cuda-form-kernels | FileCheck %s --check-prefix=DECL
// RUN: %vidnet-opt --split-input-file --verify-diagnostics --vidnet-cuda-form-kernels %s | FileCheck %s --check-prefix=SOUND
// Prefixes: CHECK for the kernels each case becomes, DECL for a declaration (skipped), SOUND
// for the in-place reads and fusions that must be skipped where they would change results (the
// last two cases).

// Tests that a padded conv + its BN/ReLU-like elementwise consumer is ONE kernel: the zero-padded
// buffer is never built (no alloc, no fill or copy kernel; the conv reads its source behind an
// unsigned bounds check per padded dimension, zero outside), the conv's constant init (0.5) is
// the accumulator's start value (no fill kernel), the reduction dimensions are scf.for loops
// carrying the accumulator, one thread per output point (1152 points: 5 blocks of 256), and the
// conv result is only used in registers: nothing is stored into the conv buffer.
// CHECK-LABEL: func.func @padded_conv(
// CHECK-SAME: %[[X:[^:]+]]: memref<1x4x6x6x2xf32>, %[[W:[^:]+]]: memref<3x3x3x2x8xf32>, %[[SCALE:[^:]+]]: memref<8xf32>)
// CHECK-NOT: memref<1x6x8x8x2xf32>
// CHECK: %[[CONV:[^ ]+]] = memref.alloc() : memref<1x4x6x6x8xf32>
// CHECK-NOT: memref<1x6x8x8x2xf32>
// CHECK: %[[Y:[^ ]+]] = memref.alloc() : memref<1x4x6x6x8xf32>
// CHECK-NOT: memref<1x6x8x8x2xf32>
// CHECK-DAG: %[[ONE:[^ ]+]] = arith.constant 1 : index
// CHECK-DAG: %[[GRID:[^ ]+]] = arith.constant 5 : index
// CHECK-DAG: %[[BLOCK:[^ ]+]] = arith.constant 256 : index
// CHECK: gpu.launch blocks(%[[BX:[^,]+]], %{{[^,]+}}, %{{[^)]+}}) in (%{{[^ ]+}} = %[[GRID]], %{{[^ ]+}} = %[[ONE]], %{{[^ ]+}} = %[[ONE]]) threads(%[[TX:[^,]+]], %{{[^,]+}}, %{{[^)]+}}) in (%{{[^ ]+}} = %[[BLOCK]], %{{[^ ]+}} = %[[ONE]], %{{[^ ]+}} = %[[ONE]])
// CHECK-DAG: %[[INIT:[^ ]+]] = arith.constant 5.000000e-01 : f32
// CHECK-DAG: %[[ZERO:[^ ]+]] = arith.constant 0.000000e+00 : f32
// CHECK: %[[BASE:[^ ]+]] = arith.muli %[[BX]], %{{[^ ]+}} : index
// CHECK: %[[ID:[^ ]+]] = arith.addi %[[BASE]], %[[TX]] : index
// CHECK: %[[POINTS:[^ ]+]] = arith.constant 1152 : index
// CHECK: %[[LIVE:[^ ]+]] = arith.cmpi ult, %[[ID]], %[[POINTS]] : index
// CHECK: scf.if %[[LIVE]] {
// CHECK: %[[F:[^ ]+]] = arith.remui %[[ID]], %c8 : index
// CHECK: %[[ACC:[^ ]+]] = scf.for %[[KD:[^ ]+]] = %{{[^ ]+}} to %c3{{[_0-9]*}} step %{{[^ ]+}} iter_args(%{{[^ ]+}} = %[[INIT]]) -> (f32) {
// CHECK: scf.for %[[KH:[^ ]+]] = %{{[^ ]+}} to %c3{{[_0-9]*}} step %{{[^ ]+}} iter_args({{.*}}) -> (f32) {
// CHECK: scf.for %[[KW:[^ ]+]] = %{{[^ ]+}} to %c3{{[_0-9]*}} step %{{[^ ]+}} iter_args({{.*}}) -> (f32) {
// CHECK: scf.for %[[C:[^ ]+]] = %{{[^ ]+}} to %c2{{[_0-9]*}} step %{{[^ ]+}} iter_args(%[[PARTIAL:[^ ]+]] = %{{[^ ]+}}) -> (f32) {
// CHECK: %[[PD:[^ ]+]] = arith.subi %{{[^ ]+}}, %c1{{[_0-9]*}} : index
// CHECK: %[[OKD:[^ ]+]] = arith.cmpi ult, %[[PD]], %c4{{[_0-9]*}} : index
// CHECK: %[[PH:[^ ]+]] = arith.subi %{{[^ ]+}}, %c1{{[_0-9]*}} : index
// CHECK: %[[OKH:[^ ]+]] = arith.cmpi ult, %[[PH]], %c6{{[_0-9]*}} : index
// CHECK: %[[OKDH:[^ ]+]] = arith.andi %[[OKD]], %[[OKH]] : i1
// CHECK: %[[PW:[^ ]+]] = arith.subi %{{[^ ]+}}, %c1{{[_0-9]*}} : index
// CHECK: %[[OKW:[^ ]+]] = arith.cmpi ult, %[[PW]], %c6{{[_0-9]*}} : index
// CHECK: %[[INSIDE:[^ ]+]] = arith.andi %[[OKDH]], %[[OKW]] : i1
// CHECK: %[[V:[^ ]+]] = scf.if %[[INSIDE]] -> (f32) {
// CHECK-NEXT: %[[LOADED:[^ ]+]] = memref.load %[[X]][%{{[^,]+}}, %[[PD]], %[[PH]], %[[PW]], %[[C]]] : memref<1x4x6x6x2xf32>
// CHECK-NEXT: scf.yield %[[LOADED]] : f32
// CHECK-NEXT: } else {
// CHECK-NEXT: %[[OUTSIDE:[^ ]+]] = arith.constant 0.000000e+00 : f32
// CHECK-NEXT: scf.yield %[[OUTSIDE]] : f32
// CHECK: %[[K:[^ ]+]] = memref.load %[[W]][%[[KD]], %[[KH]], %[[KW]], %[[C]], %[[F]]] : memref<3x3x3x2x8xf32>
// CHECK: %[[P:[^ ]+]] = arith.mulf %[[V]], %[[K]] : f32
// CHECK: %[[S:[^ ]+]] = arith.addf %[[PARTIAL]], %[[P]] : f32
// CHECK: scf.yield %[[S]] : f32
// CHECK-NOT: memref.store %{{[^ ]+}}, %[[CONV]][
// CHECK: %[[G:[^ ]+]] = memref.load %[[SCALE]][%[[F]]] : memref<8xf32>
// CHECK: %[[SCALED:[^ ]+]] = arith.mulf %[[ACC]], %[[G]] : f32
// CHECK: %[[R:[^ ]+]] = arith.maximumf %[[SCALED]], %[[ZERO]] : f32
// CHECK-NOT: memref.store %{{[^ ]+}}, %[[CONV]][
// CHECK: memref.store %[[R]], %[[Y]][%{{[^,]+}}, %{{[^,]+}}, %{{[^,]+}}, %{{[^,]+}}, %[[F]]] : memref<1x4x6x6x8xf32>
// CHECK-NOT: memref.store %{{[^ ]+}}, %[[CONV]][
// CHECK: gpu.terminator
// CHECK-NOT: gpu.launch
// CHECK: return %[[Y]] : memref<1x4x6x6x8xf32>
#id5 = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>
#ch = affine_map<(d0, d1, d2, d3, d4) -> (d4)>
func.func @padded_conv(%x: memref<1x4x6x6x2xf32>, %w: memref<3x3x3x2x8xf32>, %scale: memref<8xf32>) -> memref<1x4x6x6x8xf32> {
  %zero = arith.constant 0.0 : f32
  %bias = arith.constant 0.5 : f32
  %padded = memref.alloc() : memref<1x6x8x8x2xf32>
  linalg.generic {indexing_maps = [#id5], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]}
      outs(%padded : memref<1x6x8x8x2xf32>) {
  ^bb0(%o: f32):
    linalg.yield %zero : f32
  }
  %interior = memref.subview %padded[0, 1, 1, 1, 0] [1, 4, 6, 6, 2] [1, 1, 1, 1, 1]
      : memref<1x6x8x8x2xf32> to memref<1x4x6x6x2xf32, strided<[768, 128, 16, 2, 1], offset: 146>>
  linalg.generic {indexing_maps = [#id5, #id5], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]}
      ins(%x : memref<1x4x6x6x2xf32>) outs(%interior : memref<1x4x6x6x2xf32, strided<[768, 128, 16, 2, 1], offset: 146>>) {
  ^bb0(%i: f32, %o: f32):
    linalg.yield %i : f32
  }
  %conv = memref.alloc() : memref<1x4x6x6x8xf32>
  linalg.generic {indexing_maps = [#id5], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]}
      outs(%conv : memref<1x4x6x6x8xf32>) {
  ^bb0(%o: f32):
    linalg.yield %bias : f32
  }
  linalg.generic {indexing_maps = [affine_map<(n, d, h, w, f, kd, kh, kw, c) -> (n, d + kd, h + kh, w + kw, c)>,
                                   affine_map<(n, d, h, w, f, kd, kh, kw, c) -> (kd, kh, kw, c, f)>,
                                   affine_map<(n, d, h, w, f, kd, kh, kw, c) -> (n, d, h, w, f)>],
                  iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction", "reduction"]}
      ins(%padded, %w : memref<1x6x8x8x2xf32>, memref<3x3x3x2x8xf32>) outs(%conv : memref<1x4x6x6x8xf32>) {
  ^bb0(%i: f32, %k: f32, %acc: f32):
    %m = arith.mulf %i, %k : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  %y = memref.alloc() : memref<1x4x6x6x8xf32>
  linalg.generic {indexing_maps = [#id5, #ch, #id5], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]}
      ins(%conv, %scale : memref<1x4x6x6x8xf32>, memref<8xf32>) outs(%y : memref<1x4x6x6x8xf32>) {
  ^bb0(%c: f32, %s: f32, %o: f32):
    %m = arith.mulf %c, %s : f32
    %r = arith.maximumf %m, %zero : f32
    linalg.yield %r : f32
  }
  return %y : memref<1x4x6x6x8xf32>
}

// -----

// Tests that the conv result is still stored when something after the fused epilogue reads it
// (training keeps it for the backward pass): the first kernel stores both the conv and the
// epilogue result, and the later reader is a kernel of its own loading the conv buffer.
// CHECK-LABEL: func.func @conv_kept(
// CHECK-SAME: %[[KEEP:[^:]+]]: memref<1x4x6x6x8xf32>)
// CHECK-NOT: memref<1x6x8x8x2xf32>
// CHECK: %[[CONV:[^ ]+]] = memref.alloc() : memref<1x4x6x6x8xf32>
// CHECK: %[[Y:[^ ]+]] = memref.alloc() : memref<1x4x6x6x8xf32>
// CHECK: gpu.launch
// CHECK: %[[ACC:[^ ]+]] = scf.for {{.*}} iter_args
// CHECK: scf.if %{{[^ ]+}} -> (f32) {
// CHECK: memref.store %[[ACC]], %[[CONV]][
// CHECK: %[[R:[^ ]+]] = arith.maximumf
// CHECK: memref.store %[[R]], %[[Y]][
// CHECK: gpu.terminator
// CHECK: gpu.launch
// CHECK: %[[C:[^ ]+]] = memref.load %[[CONV]][
// CHECK: %[[N:[^ ]+]] = arith.negf %[[C]] : f32
// CHECK: memref.store %[[N]], %[[KEEP]][
// CHECK: gpu.terminator
// CHECK-NOT: gpu.launch
// CHECK: return %[[Y]]
#id5 = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>
#ch = affine_map<(d0, d1, d2, d3, d4) -> (d4)>
func.func @conv_kept(%x: memref<1x4x6x6x2xf32>, %w: memref<3x3x3x2x8xf32>, %scale: memref<8xf32>, %keep: memref<1x4x6x6x8xf32>) -> memref<1x4x6x6x8xf32> {
  %zero = arith.constant 0.0 : f32
  %padded = memref.alloc() : memref<1x6x8x8x2xf32>
  linalg.generic {indexing_maps = [#id5], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]}
      outs(%padded : memref<1x6x8x8x2xf32>) {
  ^bb0(%o: f32):
    linalg.yield %zero : f32
  }
  %interior = memref.subview %padded[0, 1, 1, 1, 0] [1, 4, 6, 6, 2] [1, 1, 1, 1, 1]
      : memref<1x6x8x8x2xf32> to memref<1x4x6x6x2xf32, strided<[768, 128, 16, 2, 1], offset: 146>>
  linalg.generic {indexing_maps = [#id5, #id5], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]}
      ins(%x : memref<1x4x6x6x2xf32>) outs(%interior : memref<1x4x6x6x2xf32, strided<[768, 128, 16, 2, 1], offset: 146>>) {
  ^bb0(%i: f32, %o: f32):
    linalg.yield %i : f32
  }
  %conv = memref.alloc() : memref<1x4x6x6x8xf32>
  linalg.generic {indexing_maps = [#id5], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]}
      outs(%conv : memref<1x4x6x6x8xf32>) {
  ^bb0(%o: f32):
    linalg.yield %zero : f32
  }
  linalg.generic {indexing_maps = [affine_map<(n, d, h, w, f, kd, kh, kw, c) -> (n, d + kd, h + kh, w + kw, c)>,
                                   affine_map<(n, d, h, w, f, kd, kh, kw, c) -> (kd, kh, kw, c, f)>,
                                   affine_map<(n, d, h, w, f, kd, kh, kw, c) -> (n, d, h, w, f)>],
                  iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction", "reduction"]}
      ins(%padded, %w : memref<1x6x8x8x2xf32>, memref<3x3x3x2x8xf32>) outs(%conv : memref<1x4x6x6x8xf32>) {
  ^bb0(%i: f32, %k: f32, %acc: f32):
    %m = arith.mulf %i, %k : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  %y = memref.alloc() : memref<1x4x6x6x8xf32>
  linalg.generic {indexing_maps = [#id5, #ch, #id5], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]}
      ins(%conv, %scale : memref<1x4x6x6x8xf32>, memref<8xf32>) outs(%y : memref<1x4x6x6x8xf32>) {
  ^bb0(%c: f32, %s: f32, %o: f32):
    %m = arith.mulf %c, %s : f32
    %r = arith.maximumf %m, %zero : f32
    linalg.yield %r : f32
  }
  linalg.generic {indexing_maps = [#id5, #id5], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]}
      ins(%conv : memref<1x4x6x6x8xf32>) outs(%keep : memref<1x4x6x6x8xf32>) {
  ^bb0(%c: f32, %o: f32):
    %n = arith.negf %c : f32
    linalg.yield %n : f32
  }
  return %y : memref<1x4x6x6x8xf32>
}

// -----

// Tests that a producer writing a function argument keeps its store even with a fused
// epilogue (the caller reads it), and that a zero fill folded into a matmul starts the
// accumulator at 0.0 (16x4 = 64 points: one block of 64 threads).
// CHECK-LABEL: func.func @matmul_into_argument(
// CHECK-SAME: %[[A:[^:]+]]: memref<16x8xf32>, %[[B:[^:]+]]: memref<8x4xf32>, %[[MM:[^:]+]]: memref<16x4xf32>, %[[SCALE:[^:]+]]: memref<4xf32>)
// CHECK: %[[R:[^ ]+]] = memref.alloc() : memref<16x4xf32>
// CHECK: %[[T:[^ ]+]] = arith.constant 64 : index
// CHECK: gpu.launch blocks({{.*}}) in (%{{[^ ]+}} = %c1{{[_0-9]*}}, {{.*}}) threads({{.*}}) in (%{{[^ ]+}} = %[[T]],
// CHECK: %[[ZERO:[^ ]+]] = arith.constant 0.000000e+00 : f32
// CHECK: %[[ACC:[^ ]+]] = scf.for %[[K:[^ ]+]] = %{{[^ ]+}} to %c8{{[_0-9]*}} step %{{[^ ]+}} iter_args(%{{[^ ]+}} = %[[ZERO]]) -> (f32) {
// CHECK: memref.load %[[A]][%[[I:[^,]+]], %[[K]]] : memref<16x8xf32>
// CHECK: memref.load %[[B]][%[[K]], %[[J:[0-9a-z_]+]]] : memref<8x4xf32>
// CHECK: memref.store %[[ACC]], %[[MM]][%[[I]], %[[J]]] : memref<16x4xf32>
// CHECK: %[[G:[^ ]+]] = memref.load %[[SCALE]][%[[J]]] : memref<4xf32>
// CHECK: %[[P:[^ ]+]] = arith.mulf %[[ACC]], %[[G]] : f32
// CHECK: memref.store %[[P]], %[[R]][%[[I]], %[[J]]] : memref<16x4xf32>
// CHECK: gpu.terminator
// CHECK-NOT: gpu.launch
// CHECK: return %[[R]]
#map2 = affine_map<(d0, d1) -> (d0, d1)>
#bcast = affine_map<(d0, d1) -> (d1)>
func.func @matmul_into_argument(%a: memref<16x8xf32>, %b: memref<8x4xf32>, %mm: memref<16x4xf32>, %scale: memref<4xf32>) -> memref<16x4xf32> {
  %zero = arith.constant 0.0 : f32
  linalg.generic {indexing_maps = [#map2], iterator_types = ["parallel", "parallel"]} outs(%mm : memref<16x4xf32>) {
  ^bb0(%o: f32):
    linalg.yield %zero : f32
  }
  linalg.generic {indexing_maps = [affine_map<(i, j, k) -> (i, k)>, affine_map<(i, j, k) -> (k, j)>, affine_map<(i, j, k) -> (i, j)>],
                  iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<16x8xf32>, memref<8x4xf32>) outs(%mm : memref<16x4xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %m = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  %r = memref.alloc() : memref<16x4xf32>
  linalg.generic {indexing_maps = [#map2, #bcast, #map2], iterator_types = ["parallel", "parallel"]}
      ins(%mm, %scale : memref<16x4xf32>, memref<4xf32>) outs(%r : memref<16x4xf32>) {
  ^bb0(%c: f32, %s: f32, %o: f32):
    %m = arith.mulf %c, %s : f32
    linalg.yield %m : f32
  }
  return %r : memref<16x4xf32>
}

// -----

// Tests that a reduction over a leading dimension (a sum of 5 rows into 40 columns) is one
// thread per column (40 points: one block, 64 threads = 40 rounded up to a warp multiple, the
// 24 extra threads masked off), looping over the rows with the accumulator in iter_args; with
// no fill before it the accumulator starts at the output's current value.
// CHECK-LABEL: func.func @column_sums(
// CHECK-SAME: %[[X:[^:]+]]: memref<5x40xf32>, %[[S:[^:]+]]: memref<40xf32>)
// CHECK-DAG: %[[ONE:[^ ]+]] = arith.constant 1 : index
// CHECK-DAG: %[[T:[^ ]+]] = arith.constant 64 : index
// CHECK: gpu.launch blocks({{.*}}) in (%{{[^ ]+}} = %c1{{[_0-9]*}}, %{{[^ ]+}} = %[[ONE]], %{{[^ ]+}} = %[[ONE]]) threads({{.*}}) in (%{{[^ ]+}} = %[[T]], %{{[^ ]+}} = %[[ONE]], %{{[^ ]+}} = %[[ONE]]) {
// CHECK: %[[ID:[^ ]+]] = arith.addi
// CHECK: %[[POINTS:[^ ]+]] = arith.constant 40 : index
// CHECK: arith.cmpi ult, %[[ID]], %[[POINTS]] : index
// CHECK: %[[COL:[^ ]+]] = arith.remui %[[ID]], %c40{{[_0-9]*}} : index
// CHECK: %[[OLD:[^ ]+]] = memref.load %[[S]][%[[COL]]] : memref<40xf32>
// CHECK: %[[SUM:[^ ]+]] = scf.for %[[ROW:[^ ]+]] = %c0{{[_0-9]*}} to %c5{{[_0-9]*}} step %c1{{[_0-9]*}} iter_args(%[[PART:[^ ]+]] = %[[OLD]]) -> (f32) {
// CHECK-NEXT: %[[E:[^ ]+]] = memref.load %[[X]][%[[ROW]], %[[COL]]] : memref<5x40xf32>
// CHECK-NEXT: %[[NEXT:[^ ]+]] = arith.addf %[[PART]], %[[E]] : f32
// CHECK-NEXT: scf.yield %[[NEXT]] : f32
// CHECK-NEXT: }
// CHECK-NEXT: memref.store %[[SUM]], %[[S]][%[[COL]]] : memref<40xf32>
// CHECK: gpu.terminator
func.func @column_sums(%x: memref<5x40xf32>, %s: memref<40xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d1, d0)>, affine_map<(d0, d1) -> (d0)>],
                  iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<5x40xf32>) outs(%s : memref<40xf32>) {
  ^bb0(%in: f32, %acc: f32):
    %a = arith.addf %acc, %in : f32
    linalg.yield %a : f32
  }
  return
}

// -----

// Tests that a sum with few outputs and many terms (4 channels of 2 x 1024 positions, as BN
// statistics and filter gradients are) is split: a first kernel of 16 parts x 4 outputs sums
// each part's 128 terms (the flattened first two reduction dimensions, 2 x 1024, in 16 ranges)
// from zero into a 16 x 4 buffer, and the op's own kernel adds the 16 parts to the output's
// value in order.
// CHECK-LABEL: func.func @split_sum(
// CHECK-SAME: %[[X:[^:]+]]: memref<2x1024x4xf32>, %[[S:[^:]+]]: memref<4xf32>)
// CHECK: %[[P:[^ ]+]] = memref.alloc() : memref<16x4xf32>
// CHECK: gpu.launch
// CHECK: %[[ID:[^ ]+]] = arith.addi
// CHECK: arith.cmpi ult, %[[ID]], %c64{{[_0-9]*}} : index
// CHECK: %[[PART:[^ ]+]] = arith.divui %[[ID]], %c4{{[_0-9]*}} : index
// CHECK: %[[ELEMENT:[^ ]+]] = arith.remui %[[ID]], %c4{{[_0-9]*}} : index
// CHECK: %[[COL:[^ ]+]] = arith.remui %[[ELEMENT]], %c4{{[_0-9]*}} : index
// CHECK: %[[ZERO:[^ ]+]] = arith.constant 0.000000e+00 : f32
// CHECK: %[[FIRST:[^ ]+]] = arith.muli %[[PART]], %c128{{[_0-9]*}} : index
// CHECK: %[[END:[^ ]+]] = arith.addi %[[FIRST]], %c128{{[_0-9]*}} : index
// CHECK: %[[SUM:[^ ]+]] = scf.for %[[Q:[^ ]+]] = %[[FIRST]] to %[[END]] step %c1{{[_0-9]*}} iter_args(%[[ACC:[^ ]+]] = %[[ZERO]]) -> (f32) {
// CHECK: %[[POS:[^ ]+]] = arith.remui %[[Q]], %c1024{{[_0-9]*}} : index
// CHECK: %[[REST:[^ ]+]] = arith.divui %[[Q]], %c1024{{[_0-9]*}} : index
// CHECK: %[[N:[^ ]+]] = arith.remui %[[REST]], %c2{{[_0-9]*}} : index
// CHECK: %[[E:[^ ]+]] = memref.load %[[X]][%[[N]], %[[POS]], %[[COL]]] : memref<2x1024x4xf32>
// CHECK: arith.addf %[[ACC]], %[[E]] : f32
// CHECK: memref.store %[[SUM]], %[[P]][%[[PART]], %[[ELEMENT]]] : memref<16x4xf32>
// CHECK: gpu.terminator
// CHECK: gpu.launch
// CHECK: %[[ID2:[^ ]+]] = arith.addi
// CHECK: %[[COL2:[^ ]+]] = arith.remui %[[ID2]], %c4{{[_0-9]*}} : index
// CHECK: %[[OLD:[^ ]+]] = memref.load %[[S]][%[[COL2]]] : memref<4xf32>
// CHECK: %[[TOTAL:[^ ]+]] = scf.for %[[I:[^ ]+]] = %c0{{[_0-9]*}} to %c16{{[_0-9]*}} step %c1{{[_0-9]*}} iter_args(%[[T:[^ ]+]] = %[[OLD]]) -> (f32) {
// CHECK-NEXT: %[[PS:[^ ]+]] = memref.load %[[P]][%[[I]], %[[ID2]]] : memref<16x4xf32>
// CHECK-NEXT: %[[NEXT:[^ ]+]] = arith.addf %[[T]], %[[PS]] : f32
// CHECK-NEXT: scf.yield %[[NEXT]] : f32
// CHECK: memref.store %[[TOTAL]], %[[S]][%[[COL2]]] : memref<4xf32>
// CHECK: gpu.terminator
func.func @split_sum(%x: memref<2x1024x4xf32>, %s: memref<4xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d2)>],
                  iterator_types = ["reduction", "reduction", "parallel"]}
      ins(%x : memref<2x1024x4xf32>) outs(%s : memref<4xf32>) {
  ^bb0(%in: f32, %acc: f32):
    %a = arith.addf %acc, %in : f32
    linalg.yield %a : f32
  }
  return
}

// -----

// Tests that a reduction that is not a sum (a maximum) stays one thread per output, however
// many terms: parts of it could not be combined by adding.
// CHECK-LABEL: func.func @max_not_split(
// CHECK-NOT: memref.alloc
// CHECK: gpu.launch
// CHECK-NOT: gpu.launch
// CHECK: return
func.func @max_not_split(%x: memref<2x1024x4xf32>, %s: memref<4xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d2)>],
                  iterator_types = ["reduction", "reduction", "parallel"]}
      ins(%x : memref<2x1024x4xf32>) outs(%s : memref<4xf32>) {
  ^bb0(%in: f32, %acc: f32):
    %a = arith.maximumf %acc, %in : f32
    linalg.yield %a : f32
  }
  return
}

// -----

// Tests that a scalar the host loads (train_step's learning rate from the hyper buffer, which
// lives in device memory) is loaded inside the kernel instead, with its index constant, and
// nothing but the launch is left on the host.
// CHECK-LABEL: func.func @sgd(
// CHECK-SAME: %[[P:[^:]+]]: memref<100xf32>, %[[G:[^:]+]]: memref<100xf32>, %[[HYPER:[^:]+]]: memref<2xf32>, %[[NEW:[^:]+]]: memref<100xf32>)
// CHECK-NOT: memref.load
// CHECK: gpu.launch
// CHECK: %[[C1:[^ ]+]] = arith.constant 1 : index
// CHECK-NEXT: %[[LR:[^ ]+]] = memref.load %[[HYPER]][%[[C1]]] : memref<2xf32>
// CHECK: %[[PV:[^ ]+]] = memref.load %[[P]][%[[I:[0-9a-z_]+]]] : memref<100xf32>
// CHECK: %[[GV:[^ ]+]] = memref.load %[[G]][%[[I]]] : memref<100xf32>
// CHECK: %[[STEP:[^ ]+]] = arith.mulf %[[LR]], %[[GV]] : f32
// CHECK: %[[UPD:[^ ]+]] = arith.subf %[[PV]], %[[STEP]] : f32
// CHECK: memref.store %[[UPD]], %[[NEW]][%[[I]]] : memref<100xf32>
// CHECK: gpu.terminator
// CHECK-NEXT: }
// CHECK-NEXT: return
#id = affine_map<(d0) -> (d0)>
func.func @sgd(%p: memref<100xf32>, %g: memref<100xf32>, %hyper: memref<2xf32>, %new: memref<100xf32>) {
  %c1 = arith.constant 1 : index
  %lr = memref.load %hyper[%c1] : memref<2xf32>
  linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel"]}
      ins(%p, %g : memref<100xf32>, memref<100xf32>) outs(%new : memref<100xf32>) {
  ^bb0(%pp: f32, %gg: f32, %o: f32):
    %m = arith.mulf %lr, %gg : f32
    %s = arith.subf %pp, %m : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// Tests that a host op the pass cannot turn into a kernel is an error, not left behind.
func.func @host_copy(%a: memref<4xf32>, %b: memref<4xf32>) {
  // expected-error @+1 {{vidnet-cuda-form-kernels: cannot run on the GPU: memref.copy}}
  memref.copy %a, %b : memref<4xf32> to memref<4xf32>
  return
}

// -----

func.func @callee(%a: memref<4xf32>) {
  return
}
func.func @host_call(%a: memref<4xf32>) {
  // expected-error @+1 {{vidnet-cuda-form-kernels: cannot run on the GPU: func.call}}
  func.call @callee(%a) : (memref<4xf32>) -> ()
  return
}

// -----

// Tests the 32-bit indexing limit at its edge: a buffer of 2^31 - 1 elements still becomes a
// kernel (8388608 blocks of 256 threads), one of 2^31 elements is an error.
// CHECK-LABEL: func.func @largest
// CHECK-DAG: %[[GRID:[^ ]+]] = arith.constant 8388608 : index
// CHECK-DAG: %[[T:[^ ]+]] = arith.constant 256 : index
// CHECK: gpu.launch blocks({{.*}}) in (%{{[^ ]+}} = %[[GRID]], {{.*}}) threads({{.*}}) in (%{{[^ ]+}} = %[[T]],
// CHECK: arith.cmpi ult, %{{[^ ]+}}, %c2147483647 : index
#id = affine_map<(d0) -> (d0)>
func.func @largest(%x: memref<2147483647xf32>, %y: memref<2147483647xf32>) {
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]}
      ins(%x : memref<2147483647xf32>) outs(%y : memref<2147483647xf32>) {
  ^bb0(%in: f32, %o: f32):
    %n = arith.negf %in : f32
    linalg.yield %n : f32
  }
  return
}

// -----

#id = affine_map<(d0) -> (d0)>
func.func @too_large(%x: memref<2147483648xf32>, %y: memref<2147483648xf32>) {
  // expected-error @+1 {{vidnet-cuda-form-kernels: a buffer of 2^31 elements or more ('memref<2147483648xf32>'); use a smaller batch}}
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]}
      ins(%x : memref<2147483648xf32>) outs(%y : memref<2147483648xf32>) {
  ^bb0(%in: f32, %o: f32):
    %n = arith.negf %in : f32
    linalg.yield %n : f32
  }
  return
}

// -----

// Tests that reading the padding in place is only done while the copy's source still holds
// what was copied: here %x is overwritten after the copy into the padded buffer and before the
// window sum reads it, so the sum must not load %x (it would see the new values: ones instead of
// the clip). The padded buffer has to be built (or the sum read before the overwrite).
// SOUND-LABEL: func.func @source_overwritten_after_copy(
// SOUND-SAME: %[[X:[^:]+]]: memref<4xf32>, %[[K:[^:]+]]: memref<3xf32>, %[[OUT:[^:]+]]: memref<4xf32>)
// SOUND: memref.store %{{[^ ]+}}, %[[X]][
// SOUND: gpu.terminator
// SOUND-NOT: memref.load %[[X]][
// SOUND: memref.store %{{[^ ]+}}, %[[OUT]][
// SOUND-NOT: memref.load %[[X]][
// SOUND: return
#id = affine_map<(d0) -> (d0)>
func.func @source_overwritten_after_copy(%x: memref<4xf32>, %k: memref<3xf32>, %out: memref<4xf32>) {
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  %padded = memref.alloc() : memref<6xf32>
  linalg.generic {indexing_maps = [#id], iterator_types = ["parallel"]} outs(%padded : memref<6xf32>) {
  ^bb0(%o: f32):
    linalg.yield %zero : f32
  }
  %interior = memref.subview %padded[1] [4] [1] : memref<6xf32> to memref<4xf32, strided<[1], offset: 1>>
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]}
      ins(%x : memref<4xf32>) outs(%interior : memref<4xf32, strided<[1], offset: 1>>) {
  ^bb0(%i: f32, %o: f32):
    linalg.yield %i : f32
  }
  linalg.generic {indexing_maps = [#id], iterator_types = ["parallel"]} outs(%x : memref<4xf32>) {
  ^bb0(%o: f32):
    linalg.yield %one : f32
  }
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0 + d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0)>],
                  iterator_types = ["parallel", "reduction"]}
      ins(%padded, %k : memref<6xf32>, memref<3xf32>) outs(%out : memref<4xf32>) {
  ^bb0(%i: f32, %w: f32, %acc: f32):
    %p = arith.mulf %i, %w : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// Tests that an elementwise consumer is not fused into its producer's kernel when it writes a
// buffer the producer reads at other points: x[i] is read by threads i and i - 1, so thread i
// storing the consumer's result into x[i] would race with thread i - 1's reads. The producer's
// kernel must not store into %x; the consumer needs a kernel of its own.
// SOUND-LABEL: func.func @epilogue_writes_producer_input(
// SOUND-SAME: %[[X:[^:]+]]: memref<9xf32>, %[[K:[^:]+]]: memref<2xf32>)
// SOUND: gpu.launch
// SOUND: memref.load %[[X]][
// SOUND-NOT: memref.store {{.*}} : memref<8xf32, strided<[1]>>
// SOUND: gpu.terminator
// SOUND: gpu.launch
// SOUND: memref.store {{.*}} : memref<8xf32, strided<[1]>>
#id = affine_map<(d0) -> (d0)>
func.func @epilogue_writes_producer_input(%x: memref<9xf32>, %k: memref<2xf32>) {
  %zero = arith.constant 0.0 : f32
  %c = memref.alloc() : memref<8xf32>
  linalg.generic {indexing_maps = [#id], iterator_types = ["parallel"]} outs(%c : memref<8xf32>) {
  ^bb0(%o: f32):
    linalg.yield %zero : f32
  }
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0 + d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0)>],
                  iterator_types = ["parallel", "reduction"]}
      ins(%x, %k : memref<9xf32>, memref<2xf32>) outs(%c : memref<8xf32>) {
  ^bb0(%i: f32, %w: f32, %acc: f32):
    %p = arith.mulf %i, %w : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  %xv = memref.subview %x[0] [8] [1] : memref<9xf32> to memref<8xf32, strided<[1]>>
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]}
      ins(%c : memref<8xf32>) outs(%xv : memref<8xf32, strided<[1]>>) {
  ^bb0(%i: f32, %o: f32):
    %r = arith.maximumf %i, %zero : f32
    linalg.yield %r : f32
  }
  return
}

// Tests that a declaration (no body: nothing to launch) is left alone instead of crashing the
// pass.
// DECL: func.func private @external(memref<4xf32>)
