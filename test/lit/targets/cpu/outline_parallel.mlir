// RUN: vidnet-opt --vidnet-cpu-outline-parallel --split-input-file --verify-diagnostics %s | FileCheck %s

// Tests that a bufferized forall becomes a private body function per item and a call to a
// declared dispatch: the view and the constants it uses are recomputed inside the body, so only
// whole buffers (bare pointers) and scalars are passed. A body without vector code (a pass over
// memory) is marked for the object emitter to keep its loops vectorized but not unrolled.
// CHECK-LABEL: func.func @step(
// CHECK-SAME: %[[IN:.*]]: memref<4x8xf32>, %[[OUT:.*]]: memref<4x8xf32>, %[[SCALE:.*]]: f32)
// CHECK-NOT: scf.forall
// CHECK: %[[N:.*]] = arith.constant 4 : index
// CHECK: call @step_parallel_dispatch(%[[N]], %[[OUT]], %[[IN]], %[[SCALE]]) : (index, memref<4x8xf32>, memref<4x8xf32>, f32) -> ()
// CHECK: func.func private @step_parallel(%[[I:.*]]: index, %[[BOUT:.*]]: memref<4x8xf32>, %[[BIN:.*]]: memref<4x8xf32>, %[[BSCALE:.*]]: f32) attributes {passthrough = {{\[\["vidnet-serial", "1"\]\]}}}
// CHECK: %[[ROW:.*]] = memref.subview %[[BOUT]][%[[I]], 0] [1, 8] [1, 1]
// CHECK: memref.load %[[BIN]][%[[I]], %{{.*}}]
// CHECK: arith.mulf %{{.*}}, %[[BSCALE]]
// CHECK: memref.store %{{.*}}, %[[ROW]]
// CHECK: return
// CHECK: func.func private @step_parallel_dispatch(index, memref<4x8xf32>, memref<4x8xf32>, f32) attributes {vidnet.parallel_body = @step_parallel, vidnet.parallel_function = "step"}
func.func @step(%in: memref<4x8xf32>, %out: memref<4x8xf32>, %scale: f32) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  scf.forall (%i) in (4) {
    %row = memref.subview %out[%i, 0] [1, 8] [1, 1] : memref<4x8xf32> to memref<1x8xf32, strided<[8, 1], offset: ?>>
    scf.for %j = %c0 to %c8 step %c1 {
      %v = memref.load %in[%i, %j] : memref<4x8xf32>
      %s = arith.mulf %v, %scale : f32
      memref.store %s, %row[%c0, %j] : memref<1x8xf32, strided<[8, 1], offset: ?>>
    }
  }
  return
}

// -----

// Tests that a view made outside the loop is recomputed inside it instead of passed (a bare
// pointer would lose its offset), and that two loops get two bodies.
// CHECK-LABEL: func.func @two
// CHECK: call @two_parallel_dispatch(%{{.*}}, %arg0)
// CHECK: call @two_parallel_0_dispatch(%{{.*}}, %arg0)
// CHECK: func.func private @two_parallel(%{{.*}}: index, %[[B:.*]]: memref<16xf32>)
// CHECK: memref.subview %[[B]][8] [8] [1]
// CHECK: func.func private @two_parallel_0(
func.func @two(%buf: memref<16xf32>) {
  %half = memref.subview %buf[8] [8] [1] : memref<16xf32> to memref<8xf32, strided<[1], offset: 8>>
  %zero = arith.constant 0.0 : f32
  scf.forall (%i) in (8) {
    memref.store %zero, %half[%i] : memref<8xf32, strided<[1], offset: 8>>
  }
  scf.forall (%i) in (16) {
    memref.store %zero, %buf[%i] : memref<16xf32>
  }
  return
}

// -----

// Tests that a buffer that cannot travel as a bare pointer is refused with the reason.
func.func @dynamic(%buf: memref<?xf32>) {
  %zero = arith.constant 0.0 : f32
  // expected-error @+1 {{the loop uses a 'memref<?xf32>' from outside, which cannot be passed to the runtime's threads}}
  scf.forall (%i) in (4) {
    memref.store %zero, %buf[%i] : memref<?xf32>
  }
  return
}

// -----

// Tests that a loop whose item count is not known at compile time is refused.
func.func @unknown_count(%buf: memref<8xf32>, %n: index) {
  %zero = arith.constant 0.0 : f32
  // expected-error @+1 {{expects a forall with static bounds and steps}}
  scf.forall (%i) in (%n) {
    memref.store %zero, %buf[%i] : memref<8xf32>
  }
  return
}

// -----

// Tests that a forall with a lower bound and a step (a tiled transpose's blocks) is numbered
// 0 .. count-1, each item's index mapped back to lower + index * step in the body.
// CHECK-LABEL: func.func @stepped
// CHECK: %[[C4:.*]] = arith.constant 4 : index
// CHECK: call @stepped_parallel_dispatch(%[[C4]], %arg0)
// CHECK: func.func private @stepped_parallel(%[[ITEM:.*]]: index, %[[B:.*]]: memref<64xf32>)
// CHECK: %[[SCALED:.*]] = arith.muli %[[ITEM]], %c16
// CHECK: %[[AT:.*]] = arith.addi %[[SCALED]], %c2
// CHECK: memref.store %{{.*}}, %[[B]][%[[AT]]]
func.func @stepped(%buf: memref<64xf32>) {
  %zero = arith.constant 0.0 : f32
  %c2 = arith.constant 2 : index
  %c64 = arith.constant 64 : index
  %c16 = arith.constant 16 : index
  scf.forall (%i) = (%c2) to (%c64) step (%c16) {
    memref.store %zero, %buf[%i] : memref<64xf32>
  }
  return
}

// -----

// Tests that a multi-dimensional forall is numbered row-major: one item index, split back into
// the loop's indices inside the body.
// CHECK-LABEL: func.func @grid
// CHECK: %[[C6:.*]] = arith.constant 6 : index
// CHECK: call @grid_parallel_dispatch(%[[C6]], %arg0)
// CHECK: func.func private @grid_parallel(%[[ITEM:.*]]: index, %[[B:.*]]: memref<2x3xf32>)
// CHECK: %[[IJ:.*]]:2 = affine.delinearize_index %[[ITEM]] into (2, 3)
// CHECK: memref.store %{{.*}}, %[[B]][%[[IJ]]#0, %[[IJ]]#1]
func.func @grid(%buf: memref<2x3xf32>) {
  %zero = arith.constant 0.0 : f32
  scf.forall (%i, %j) in (2, 3) {
    memref.store %zero, %buf[%i, %j] : memref<2x3xf32>
  }
  return
}

// -----

// Tests that loops whose bodies are the same code on other buffers (a stage's identical
// convolutions) share one body function, each keeping its own dispatch; a loop that differs
// (here in a constant) gets its own body.
// CHECK-LABEL: func.func @twins(
// CHECK: call @twins_parallel_dispatch(%{{.*}}, %arg0)
// CHECK: call @twins_parallel_0_dispatch(%{{.*}}, %arg1)
// CHECK: call @twins_parallel_1_dispatch(%{{.*}}, %arg2)
// CHECK: func.func private @twins_parallel(
// CHECK: func.func private @twins_parallel_dispatch({{.*}}) attributes {vidnet.parallel_body = @twins_parallel,
// CHECK: func.func private @twins_parallel_0_dispatch({{.*}}) attributes {vidnet.parallel_body = @twins_parallel,
// CHECK: func.func private @twins_parallel_1(
// CHECK: arith.constant 2.000000e+00 : f32
// CHECK: func.func private @twins_parallel_1_dispatch({{.*}}) attributes {vidnet.parallel_body = @twins_parallel_1,
func.func @twins(%a: memref<4xf32>, %b: memref<4xf32>, %c: memref<4xf32>) {
  scf.forall (%i) in (4) {
    %one = arith.constant 1.0 : f32
    memref.store %one, %a[%i] : memref<4xf32>
  }
  scf.forall (%i) in (4) {
    %one = arith.constant 1.0 : f32
    memref.store %one, %b[%i] : memref<4xf32>
  }
  scf.forall (%i) in (4) {
    %two = arith.constant 2.0 : f32
    memref.store %two, %c[%i] : memref<4xf32>
  }
  return
}

// -----

// Tests that a body with vector code (a register tile) is not marked: its loops are unrolled.
// CHECK-LABEL: func.func @tile
// CHECK: func.func private @tile_parallel(%{{.*}}: index, %{{.*}}: memref<4x16xf32>) {
func.func @tile(%buf: memref<4x16xf32>) {
  %c0 = arith.constant 0 : index
  %zero = arith.constant dense<0.0> : vector<16xf32>
  scf.forall (%i) in (4) {
    vector.store %zero, %buf[%i, %c0] : memref<4x16xf32>, vector<16xf32>
  }
  return
}
