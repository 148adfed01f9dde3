// RUN: vidnet-opt --pass-pipeline='builtin.module(llvm.func(vidnet-cpu-freeze-selected-loads))' %s | FileCheck %s

// Tests that a vector select of a loaded tile stored back in place (a ReLU-backward epilogue,
// dx = y > 0 ? dx : 0) picks from a freeze of the loaded value, not from the load, and that
// its constant operand is left alone.
// CHECK-LABEL: llvm.func @relu_backward_in_place
// CHECK: %[[DX:.*]] = llvm.load %arg0 : !llvm.ptr -> vector<8xf32>
// CHECK: %[[F:.*]] = llvm.freeze %[[DX]] : vector<8xf32>
// CHECK: %[[S:.*]] = llvm.select %{{.*}}, %[[F]], %[[ZERO:.*]] : vector<8xi1>, vector<8xf32>
// CHECK-NOT: llvm.freeze %[[ZERO]]
// CHECK: llvm.store %[[S]], %arg0
llvm.func @relu_backward_in_place(%dx: !llvm.ptr, %y: !llvm.ptr) {
  %zero = llvm.mlir.zero : vector<8xf32>
  %v = llvm.load %dx : !llvm.ptr -> vector<8xf32>
  %w = llvm.load %y : !llvm.ptr -> vector<8xf32>
  %c = llvm.fcmp "ogt" %w, %zero : vector<8xf32>
  %s = llvm.select %c, %v, %zero : vector<8xi1>, vector<8xf32>
  llvm.store %s, %dx : vector<8xf32>, !llvm.ptr
  llvm.return
}

// Tests that a scalar select is left as it is (LLVM makes no masked store of it).
// CHECK-LABEL: llvm.func @scalar
// CHECK-NOT: llvm.freeze
llvm.func @scalar(%c: i1, %p: !llvm.ptr) {
  %zero = llvm.mlir.constant(0.0 : f32) : f32
  %v = llvm.load %p : !llvm.ptr -> f32
  %s = llvm.select %c, %v, %zero : i1, f32
  llvm.store %s, %p : f32, !llvm.ptr
  llvm.return
}
