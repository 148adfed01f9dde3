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

// Tests that a copy between two identical subviews of one buffer (one-shot-bufferize's
// insert_slice of a value computed in place) or of a view onto itself is dropped with the
// views it leaves unused, while a copy between subviews that differ in an offset stays.
// CHECK-LABEL: func.func @onto_itself
// CHECK-NEXT: %[[D:.*]] = memref.subview %{{.*}}[0, %{{.*}}] [4, 4] [1, 1]
// CHECK-NEXT: %[[E:.*]] = memref.subview %{{.*}}[0, 2] [4, 4] [1, 1]
// CHECK-NEXT: linalg.copy ins(%[[D]] : {{.*}}) outs(%[[E]] :
// CHECK-NEXT: return
func.func @onto_itself(%buffer: memref<4x8xf32>, %i: index) {
  %a = memref.subview %buffer[0, %i] [4, 4] [1, 1] : memref<4x8xf32> to memref<4x4xf32, strided<[8, 1], offset: ?>>
  %b = memref.subview %buffer[0, %i] [4, 4] [1, 1] : memref<4x8xf32> to memref<4x4xf32, strided<[8, 1], offset: ?>>
  memref.copy %a, %b : memref<4x4xf32, strided<[8, 1], offset: ?>> to memref<4x4xf32, strided<[8, 1], offset: ?>>
  %c = memref.subview %buffer[0, 1] [4, 4] [1, 1] : memref<4x8xf32> to memref<4x4xf32, strided<[8, 1], offset: 1>>
  memref.copy %c, %c : memref<4x4xf32, strided<[8, 1], offset: 1>> to memref<4x4xf32, strided<[8, 1], offset: 1>>
  %d = memref.subview %buffer[0, %i] [4, 4] [1, 1] : memref<4x8xf32> to memref<4x4xf32, strided<[8, 1], offset: ?>>
  %e = memref.subview %buffer[0, 2] [4, 4] [1, 1] : memref<4x8xf32> to memref<4x4xf32, strided<[8, 1], offset: 2>>
  memref.copy %d, %e : memref<4x4xf32, strided<[8, 1], offset: ?>> to memref<4x4xf32, strided<[8, 1], offset: 2>>
  return
}
