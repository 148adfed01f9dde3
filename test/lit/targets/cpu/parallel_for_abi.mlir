// RUN: vidnet-opt --vidnet-cpu-parallel-for-abi %s | FileCheck %s

// Tests that a dispatch declaration gets its definition: the arguments stored into 8-byte
// slots, the runtime's hook (an exported global, null until the runtime sets it) called with
// the range function and the loop's number, or the range run in place while the hook is null;
// that the range function calls the body once per item of [begin, end); and that the exported
// function gets its loop table, with what the loop's location says it computes.
// CHECK: llvm.mlir.global external constant @entry_loops("[{\22bytes\22:0,\22flops\22:1000,\22id\22:0,\22kind\22:\22conv\22,\22layer\22:\22layer1.0.conv1.0\22,\22line\22:5,\22shape\22:\223x3x3 64->64 /1x1x1, out 1x8x56x56\22},{\22bytes\22:64,\22flops\22:0,\22id\22:1,\22kind\22:\22loop\22,\22layer\22:\22x\22,\22line\22:0,\22shape\22:\22\22}]\00")
// CHECK: llvm.mlir.global weak @vidnet_parallel_for() {{.*}} : !llvm.ptr
// CHECK: llvm.mlir.zero : !llvm.ptr
// CHECK-NOT: _loops(
// CHECK: llvm.func @entry(
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
// CHECK: %[[ID:.*]] = llvm.mlir.constant(0 : i64) : i64
// CHECK: llvm.call %[[HOOK]](%[[RANGE]], %[[SL]], %[[N]], %[[ID]]) : !llvm.ptr, (!llvm.ptr, !llvm.ptr, i64, i64) -> ()
// CHECK: llvm.func internal @other_dispatch(
// CHECK: llvm.mlir.constant(1 : i64) : i64
// CHECK-NOT: vidnet.parallel_body
module {
  llvm.func @entry(%buf: !llvm.ptr) {
    %n = llvm.mlir.constant(4 : i64) : i64
    %s = llvm.mlir.constant(2.0 : f32) : f32
    llvm.call @dispatch(%n, %buf, %s) : (i64, !llvm.ptr, f32) -> ()
    llvm.call @other_dispatch(%n, %buf) : (i64, !llvm.ptr) -> ()
    llvm.return
  }
  llvm.func @body(%i: i64, %buf: !llvm.ptr, %scale: f32) {
    llvm.return
  }
  llvm.func @dispatch(i64, !llvm.ptr, f32) attributes {vidnet.parallel_body = @body, vidnet.parallel_function = "entry"} loc(#loop)
  llvm.func @other(%i: i64, %buf: !llvm.ptr) attributes {sym_visibility = "private"} {
    llvm.return
  }
  llvm.func @other_dispatch(i64, !llvm.ptr) attributes {vidnet.parallel_body = @other, vidnet.parallel_function = "entry"} loc(#other)
}
#spec = loc("m.vnet":5:1)
#layer = loc("layer1.0.conv1.0"(#spec))
#loop = loc(fused<{tag = "vidnet.loop", kind = "conv", shape = "3x3x3 64->64 /1x1x1, out 1x8x56x56", flops = 1000 : i64, bytes = 0 : i64}>[#layer])
#other = loc(fused<{tag = "vidnet.loop", kind = "", shape = "", flops = 0 : i64, bytes = 64 : i64}>["x"])
