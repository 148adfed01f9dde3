// RUN: vidnet-opt --pass-pipeline='builtin.module(func.func(vidnet-cpu-zero-borders))' %s | FileCheck %s

// Tests that a fill marked with its interior (1 row of padding before and after along D, H and
// W) fills only the border, as two disjoint slabs per padded axis: along D the whole planes;
// along H the rows of the interior planes; along W the columns of the interior rows. The
// channel axis (no padding) gets no slab.
// CHECK-LABEL: func.func @border
// CHECK-SAME: %[[B:.*]]: memref<1x6x10x10x16xf32>
// CHECK: %[[S0:.*]] = memref.subview %[[B]][0, 0, 0, 0, 0] [1, 1, 10, 10, 16] [1, 1, 1, 1, 1]
// CHECK: linalg.fill ins(%{{.*}} : f32) outs(%[[S0]]
// CHECK: memref.subview %[[B]][0, 5, 0, 0, 0] [1, 1, 10, 10, 16]
// CHECK: memref.subview %[[B]][0, 1, 0, 0, 0] [1, 4, 1, 10, 16]
// CHECK: memref.subview %[[B]][0, 1, 9, 0, 0] [1, 4, 1, 10, 16]
// CHECK: memref.subview %[[B]][0, 1, 1, 0, 0] [1, 4, 8, 1, 16]
// CHECK: %[[S5:.*]] = memref.subview %[[B]][0, 1, 1, 9, 0] [1, 4, 8, 1, 16]
// CHECK: linalg.fill ins(%{{.*}} : f32) outs(%[[S5]]
// CHECK-NOT: linalg.fill
// CHECK: return
func.func @border(%b: memref<1x6x10x10x16xf32>) {
  %zero = arith.constant 0.0 : f32
  linalg.fill {vidnet.interior = array<i64: 0, 1, 1, 1, 0, 1, 4, 8, 8, 16>} ins(%zero : f32) outs(%b : memref<1x6x10x10x16xf32>)
  return
}

// Tests that an interior flush with the buffer's end along an axis gives one slab on that axis
// (the W padding after the interior is 3 columns, none before), and that unmarked fills stay.
// CHECK-LABEL: func.func @one_sided
// CHECK: memref.subview %{{.*}}[0, 8, 0] [2, 3, 4]
// CHECK-NOT: memref.subview
// CHECK: linalg.fill ins(%{{.*}} : f32) outs(%{{.*}} : memref<2x8xf32>)
func.func @one_sided(%b: memref<2x11x4xf32>, %c: memref<2x8xf32>) {
  %zero = arith.constant 0.0 : f32
  linalg.fill {vidnet.interior = array<i64: 0, 0, 0, 2, 8, 4>} ins(%zero : f32) outs(%b : memref<2x11x4xf32>)
  linalg.fill ins(%zero : f32) outs(%c : memref<2x8xf32>)
  return
}
