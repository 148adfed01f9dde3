// RUN: vidnet-opt --vidnet-cpu-outline-serial --split-input-file %s | FileCheck %s

// Tests that each loop nest at the top of an exported function becomes an internal function
// marked as serial code, called where it was; the view it reads is recomputed inside from its
// root buffer, so only whole buffers and scalars are passed; two equal nests share one
// function; calls, deallocs and private functions are left alone.
// CHECK-LABEL: func.func @step(
// CHECK-SAME: %[[IN:.*]]: memref<16xf32>, %[[OUT:.*]]: memref<8xf32>, %[[SCALE:.*]]: f32)
// CHECK-NOT: scf.for
// CHECK: call @step_serial(%[[IN]], %[[SCALE]], %[[OUT]]) : (memref<16xf32>, f32, memref<8xf32>) -> ()
// CHECK: call @helper(%[[OUT]])
// CHECK: call @step_serial_0(%[[OUT]], %[[IN]])
// CHECK: call @step_serial_0(%[[OUT]], %[[IN]])
// CHECK: memref.alloc
// CHECK-NEXT: memref.dealloc
// CHECK: return
// CHECK: func.func private @helper(
// CHECK-NEXT: arith.constant
// CHECK-NEXT: linalg.fill
// CHECK: func.func private @step_serial(%[[A:.*]]: memref<16xf32>, %[[S:.*]]: f32, %[[B:.*]]: memref<8xf32>)
// CHECK-SAME: llvm.linkage = #llvm.linkage<internal>
// CHECK-SAME: passthrough = {{\[\[}}"vidnet-serial", "1"]]
// CHECK: %[[HALF:.*]] = memref.subview %[[A]][8] [8] [1]
// CHECK: scf.for
// CHECK: memref.load %[[HALF]]
// CHECK: arith.mulf %{{.*}}, %[[S]]
// CHECK: memref.store %{{.*}}, %[[B]]
// CHECK: func.func private @step_serial_0(
// CHECK: linalg.copy
// CHECK-NOT: func.func private @step_serial_1
func.func @step(%in: memref<16xf32>, %out: memref<8xf32>, %scale: f32) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %half = memref.subview %in[8] [8] [1] : memref<16xf32> to memref<8xf32, strided<[1], offset: 8>>
  scf.for %j = %c0 to %c8 step %c1 {
    %v = memref.load %half[%j] : memref<8xf32, strided<[1], offset: 8>>
    %s = arith.mulf %v, %scale : f32
    memref.store %s, %out[%j] : memref<8xf32>
  }
  func.call @helper(%out) : (memref<8xf32>) -> ()
  %low = memref.subview %in[0] [8] [1] : memref<16xf32> to memref<8xf32, strided<[1]>>
  linalg.copy ins(%out : memref<8xf32>) outs(%low : memref<8xf32, strided<[1]>>)
  linalg.copy ins(%out : memref<8xf32>) outs(%low : memref<8xf32, strided<[1]>>)
  %tmp = memref.alloc() : memref<8xf32>
  memref.dealloc %tmp : memref<8xf32>
  return
}
func.func private @helper(%buf: memref<8xf32>) {
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%buf : memref<8xf32>)
  return
}

// -----

// Tests that a nest using a value that can neither be passed nor recomputed (a dynamic
// buffer) stays where it is, that a nest with results stays too, and so does one that frees
// a buffer (inside, the buffer's pointer would not be what malloc returned).
// CHECK-LABEL: func.func @kept(
// CHECK: linalg.fill
// CHECK: scf.if
// CHECK-NEXT: memref.dealloc
// CHECK: scf.for
// CHECK-NOT: func.func private
func.func @kept(%dyn: memref<?xf32>, %n: index, %own: i1) -> f32 {
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%dyn : memref<?xf32>)
  %buf = memref.alloc() {alignment = 64 : i64} : memref<8xf32>
  scf.if %own {
    memref.dealloc %buf : memref<8xf32>
  }
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %sum = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %zero) -> (f32) {
    %a = arith.addf %acc, %zero : f32
    scf.yield %a : f32
  }
  return %sum : f32
}
