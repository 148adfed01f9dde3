// RUN: vidnet-opt --vidnet-memref-copy-to-linalg %s | FileCheck %s

// Tests that a copy into a strided subview (what a bufferized tensor.pad makes) becomes
// linalg.copy, so no call to the MLIR runtime's memrefCopy is left for a bundle to import.
// CHECK-LABEL: func.func @pad_interior
// CHECK: linalg.copy ins(%{{.*}} : memref<4x4xf32>) outs(%{{.*}} : memref<4x4xf32, strided<[6, 1], offset: 7>>)
// CHECK-NOT: memref.copy
func.func @pad_interior(%src: memref<4x4xf32>, %dst: memref<6x6xf32>) {
  %view = memref.subview %dst[1, 1] [4, 4] [1, 1] : memref<6x6xf32> to memref<4x4xf32, strided<[6, 1], offset: 7>>
  memref.copy %src, %view : memref<4x4xf32> to memref<4x4xf32, strided<[6, 1], offset: 7>>
  return
}
