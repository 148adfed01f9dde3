// RUN: vidnet-opt --pass-pipeline='builtin.module(llvm.func(vidnet-cpu-stream-stores))' %s | FileCheck %s

// Tests that a vector store whose location is marked as streamed becomes non-temporal, aligned
// to its size (32 bytes for 8 floats, 64 at most for 16), and that unmarked stores and a marked
// scalar store are left alone.
// CHECK-LABEL: llvm.func @streamed
// CHECK: llvm.store %arg1, %arg0 {alignment = 32 : i64, nontemporal} : vector<8xf32>, !llvm.ptr
// CHECK: llvm.store %arg2, %arg0 {alignment = 64 : i64, nontemporal} : vector<16xf32>, !llvm.ptr
// CHECK: llvm.store %arg1, %arg0 : vector<8xf32>, !llvm.ptr
// CHECK: llvm.store %arg3, %arg0 : f32, !llvm.ptr
llvm.func @streamed(%p: !llvm.ptr, %v: vector<8xf32>, %w: vector<16xf32>, %s: f32) {
  llvm.store %v, %p : vector<8xf32>, !llvm.ptr loc(fused<"vidnet.streamed-store">["dw.mlir":1:1])
  llvm.store %w, %p : vector<16xf32>, !llvm.ptr loc(fused<"vidnet.streamed-store">["dw.mlir":1:1])
  llvm.store %v, %p : vector<8xf32>, !llvm.ptr loc("dw.mlir":2:1)
  llvm.store %s, %p : f32, !llvm.ptr loc(fused<"vidnet.streamed-store">["dw.mlir":3:1])
  llvm.return
}
