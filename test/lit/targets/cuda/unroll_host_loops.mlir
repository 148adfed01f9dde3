// RUN: %vidnet-opt --split-input-file --verify-diagnostics --vidnet-cuda-unroll-host-loops --canonicalize %s | FileCheck %s --implicit-check-not=scf.for
// RUN: echo 'func.func private @external(memref<4xf32>)' | %vidnet-opt --vidnet-cuda-unroll-host-loops | FileCheck %s --check-prefix=DECL

// Tests that a loop over 3 filter taps is fully unrolled: no scf.for is left and each tap's
// subview has a static offset (0, 8, 16 elements), so it can be one bare kernel pointer.
// CHECK-LABEL: func.func @taps(
// CHECK-SAME: %[[W:[^:]+]]: memref<3x8xf32>, %[[OUT:[^:]+]]: memref<8xf32>)
// CHECK-NEXT: %[[T0:[^ ]+]] = memref.subview %[[W]][0, 0] [1, 8] [1, 1] : memref<3x8xf32> to memref<8xf32, strided<[1]>>
// CHECK-NEXT: memref.copy %[[T0]], %[[OUT]]
// CHECK-NEXT: %[[T1:[^ ]+]] = memref.subview %[[W]][1, 0] [1, 8] [1, 1] : memref<3x8xf32> to memref<8xf32, strided<[1], offset: 8>>
// CHECK-NEXT: memref.copy %[[T1]], %[[OUT]]
// CHECK-NEXT: %[[T2:[^ ]+]] = memref.subview %[[W]][2, 0] [1, 8] [1, 1] : memref<3x8xf32> to memref<8xf32, strided<[1], offset: 16>>
// CHECK-NEXT: memref.copy %[[T2]], %[[OUT]]
// CHECK-NEXT: return
func.func @taps(%w: memref<3x8xf32>, %out: memref<8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  scf.for %t = %c0 to %c3 step %c1 {
    %tap = memref.subview %w[%t, 0] [1, 8] [1, 1] : memref<3x8xf32> to memref<8xf32, strided<[1], offset: ?>>
    memref.copy %tap, %out : memref<8xf32, strided<[1], offset: ?>> to memref<8xf32>
  }
  return
}

// -----

// Tests that unrolling repeats until no loop is left: the inner loop becomes top-level once the
// outer one (2 x 3 with a step of 2 on the inner one: 0, 2, 4) is unrolled, in iteration order.
// CHECK-LABEL: func.func @nested(
// CHECK-SAME: %[[W:[^:]+]]: memref<2x6x8xf32>, %[[OUT:[^:]+]]: memref<8xf32>)
// CHECK-NEXT: memref.subview %[[W]][0, 0, 0] [1, 1, 8] [1, 1, 1] : memref<2x6x8xf32> to memref<8xf32, strided<[1]>>
// CHECK-NEXT: memref.copy
// CHECK-NEXT: memref.subview %[[W]][0, 2, 0] [1, 1, 8] [1, 1, 1] : memref<2x6x8xf32> to memref<8xf32, strided<[1], offset: 16>>
// CHECK-NEXT: memref.copy
// CHECK-NEXT: memref.subview %[[W]][0, 4, 0] [1, 1, 8] [1, 1, 1] : memref<2x6x8xf32> to memref<8xf32, strided<[1], offset: 32>>
// CHECK-NEXT: memref.copy
// CHECK-NEXT: memref.subview %[[W]][1, 0, 0] [1, 1, 8] [1, 1, 1] : memref<2x6x8xf32> to memref<8xf32, strided<[1], offset: 48>>
// CHECK-NEXT: memref.copy
// CHECK-NEXT: memref.subview %[[W]][1, 2, 0] [1, 1, 8] [1, 1, 1] : memref<2x6x8xf32> to memref<8xf32, strided<[1], offset: 64>>
// CHECK-NEXT: memref.copy
// CHECK-NEXT: memref.subview %[[W]][1, 4, 0] [1, 1, 8] [1, 1, 1] : memref<2x6x8xf32> to memref<8xf32, strided<[1], offset: 80>>
// CHECK-NEXT: memref.copy
// CHECK-NEXT: return
func.func @nested(%w: memref<2x6x8xf32>, %out: memref<8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c6 = arith.constant 6 : index
  scf.for %i = %c0 to %c2 step %c1 {
    scf.for %j = %c0 to %c6 step %c2 {
      %tap = memref.subview %w[%i, %j, 0] [1, 1, 8] [1, 1, 1] : memref<2x6x8xf32> to memref<8xf32, strided<[1], offset: ?>>
      memref.copy %tap, %out : memref<8xf32, strided<[1], offset: ?>> to memref<8xf32>
    }
  }
  return
}

// -----

// Tests that a loop whose trip count is only known at run time is an error (its subviews would
// keep dynamic offsets).
func.func @dynamic(%w: memref<?x8xf32>, %out: memref<8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %w, %c0 : memref<?x8xf32>
  // expected-error @+1 {{vidnet-cuda-unroll-host-loops: a host loop without a constant trip count cannot be unrolled into launches}}
  scf.for %t = %c0 to %n step %c1 {
    %tap = memref.subview %w[%t, 0] [1, 8] [1, 1] : memref<?x8xf32> to memref<8xf32, strided<[1], offset: ?>>
    memref.copy %tap, %out : memref<8xf32, strided<[1], offset: ?>> to memref<8xf32>
  }
  return
}

// Tests that a declaration (no body, no loops) is left alone instead of crashing the pass.
// DECL: func.func private @external(memref<4xf32>)
