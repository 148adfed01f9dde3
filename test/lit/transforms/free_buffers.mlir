// RUN: vidnet-opt --split-input-file --verify-diagnostics --pass-pipeline="builtin.module(func.func(vidnet-free-buffers))" %s | FileCheck %s

// Tests that each buffer is freed right after the op that holds its last use: a direct use,
// a use of a view of it, a use inside a loop's body, the loop's result it initializes; and
// that an unused buffer is erased.
// CHECK-LABEL: func.func @after_last_use
// CHECK: %[[A:.*]] = memref.alloc() : memref<8xf32>
// CHECK-NEXT: %[[B:.*]] = memref.alloc() : memref<8xf32>
// CHECK-NEXT: linalg.fill ins(%{{.*}} : f32) outs(%[[A]] :
// CHECK-NEXT: %[[V:.*]] = memref.subview %[[A]]
// CHECK-NEXT: linalg.copy ins(%[[V]] : {{.*}}) outs(%[[B]] :
// CHECK-NEXT: memref.dealloc %[[A]] : memref<8xf32>
// CHECK-NEXT: %[[R:.*]] = scf.for {{.*}} iter_args(%{{.*}} = %[[B]])
// CHECK: }
// CHECK-NEXT: linalg.copy ins(%[[R]] : {{.*}}) outs(%{{.*}} :
// CHECK-NEXT: memref.dealloc %[[B]] : memref<8xf32>
// CHECK-NEXT: return
// CHECK-NOT: memref.alloc
func.func @after_last_use(%out: memref<8xf32>, %c: f32) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %a = memref.alloc() : memref<8xf32>
  %b = memref.alloc() : memref<8xf32>
  %unused = memref.alloc() : memref<16xf32>
  linalg.fill ins(%c : f32) outs(%a : memref<8xf32>)
  %v = memref.subview %a[0] [8] [1] : memref<8xf32> to memref<8xf32, strided<[1]>>
  linalg.copy ins(%v : memref<8xf32, strided<[1]>>) outs(%b : memref<8xf32>)
  %r = scf.for %i = %c0 to %c8 step %c1 iter_args(%acc = %b) -> (memref<8xf32>) {
    memref.store %c, %acc[%i] : memref<8xf32>
    scf.yield %acc : memref<8xf32>
  }
  linalg.copy ins(%r : memref<8xf32>) outs(%out : memref<8xf32>)
  return
}

// -----

// Tests that a buffer whose view leaves the function is an error, not a leak or a dangling
// pointer.
func.func @escapes() -> memref<8xf32> {
  %a = memref.alloc() : memref<8xf32>
  // expected-error @+1 {{a view of this function's buffer escapes through func.return}}
  return %a : memref<8xf32>
}

// -----

// Tests that an alloc inside a loop's body is an error (its buffer would need a dealloc per
// iteration, which this pass does not place).
func.func @in_a_loop(%n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  scf.for %i = %c0 to %n step %c1 {
    // expected-error @+1 {{expected the buffer's alloc in the function's only block}}
    %a = memref.alloc() : memref<8xf32>
  }
  return
}
