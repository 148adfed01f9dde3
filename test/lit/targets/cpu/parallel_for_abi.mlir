// RUN: vidnet-opt --vidnet-cpu-parallel-for-abi %s | FileCheck %s

// Tests that a dispatch declaration gets its definition: the arguments stored into 8-byte
// slots, the runtime's hook (an exported global, null until the runtime sets it) called with
// the range function, or the range run in place while the hook is null; and that the range
// function calls the body once per item of [begin, end).
// CHECK: llvm.mlir.global weak @vidnet_parallel_for() {{.*}} : !llvm.ptr
// CHECK: llvm.mlir.zero : !llvm.ptr
// CHECK: llvm.func internal @body(
// CHECK: llvm.func internal @body_range(%[[SLOTS:.*]]: !llvm.ptr, %[[BEGIN:.*]]: i64, %[[END:.*]]: i64)
// CHECK: %[[P0:.*]] = llvm.getelementptr %[[SLOTS]][0] : (!llvm.ptr) -> !llvm.ptr, i64
// CHECK: %[[A0:.*]] = llvm.load %[[P0]] : !llvm.ptr -> !llvm.ptr
// CHECK: %[[P1:.*]] = llvm.getelementptr %[[SLOTS]][1] : (!llvm.ptr) -> !llvm.ptr, i64
// CHECK: %[[A1:.*]] = llvm.load %[[P1]] : !llvm.ptr -> f32
// CHECK: llvm.br ^[[HEAD:.*]](%[[BEGIN]] : i64)
// CHECK: ^[[HEAD]](%[[I:.*]]: i64):
// CHECK: llvm.icmp "slt" %[[I]], %[[END]]
// CHECK: llvm.call @body(%[[I]], %[[A0]], %[[A1]])
// CHECK: llvm.func internal @dispatch(%[[N:.*]]: i64, %[[B:.*]]: !llvm.ptr, %[[S:.*]]: f32)
// CHECK: %[[SL:.*]] = llvm.alloca %{{.*}} x i64
// CHECK: llvm.store %[[B]], %{{.*}} : !llvm.ptr, !llvm.ptr
// CHECK: llvm.store %[[S]], %{{.*}} : f32, !llvm.ptr
// CHECK: %[[HOOK:.*]] = llvm.load %{{.*}} : !llvm.ptr -> !llvm.ptr
// CHECK: llvm.icmp "eq" %[[HOOK]]
// CHECK: llvm.call @body_range(%[[SL]], %{{.*}}, %[[N]])
// CHECK: %[[RANGE:.*]] = llvm.mlir.addressof @body_range
// CHECK: llvm.call %[[HOOK]](%[[RANGE]], %[[SL]], %[[N]]) : !llvm.ptr, (!llvm.ptr, !llvm.ptr, i64) -> ()
// CHECK-NOT: vidnet.parallel_body
module {
  llvm.func @body(%i: i64, %buf: !llvm.ptr, %scale: f32) {
    llvm.return
  }
  llvm.func @dispatch(i64, !llvm.ptr, f32) attributes {vidnet.parallel_body = @body}
}
