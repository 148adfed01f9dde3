// RUN: %vidnet-opt --split-input-file --verify-diagnostics --vidnet-cuda-launches-to-loops %s | FileCheck %s --implicit-check-not=gpu.
// RUN: %vidnet-opt --split-input-file --verify-diagnostics --vidnet-cuda-form-kernels --vidnet-cuda-launches-to-loops %s | FileCheck %s --check-prefix=PIPE --implicit-check-not=gpu.
// RUN: echo 'func.func private @external(memref<4xf32>)' | %vidnet-opt --vidnet-cuda-launches-to-loops | FileCheck %s --check-prefix=DECL
// Tests vidnet-cuda-launches-to-loops: each gpu.launch runs as two nested scf.for on the host.
// The loops are scf.for over blocks { scf.for over threads { body } }. Prefixes: CHECK for
// hand-written launches, PIPE for the kernels vidnet-cuda-form-kernels makes (the
// compiled-model tests' CPU check of kernel formation), DECL for a declaration (skipped).
// --implicit-check-not=gpu. checks that no gpu.launch, gpu.terminator or other gpu op is left.

// Tests that the block loop runs to the grid's x size and the thread loop to the block's x size,
// both from 0 in steps of 1; block and thread ids x become the induction variables, y and z
// become 0; the grid and block sizes become the launch's operands; the body is cloned in order
// without its gpu.terminator.
// CHECK-LABEL: func.func @one_launch(
// CHECK-SAME: %[[OUT:[^:]+]]: memref<1024xindex>, %[[SIZES:[^:]+]]: memref<6xindex>)
// CHECK-DAG: %[[ONE:[^ ]+]] = arith.constant 1 : index
// CHECK-DAG: %[[GRID:[^ ]+]] = arith.constant 3 : index
// CHECK-DAG: %[[BLOCK:[^ ]+]] = arith.constant 256 : index
// CHECK: scf.for %[[B:[^ ]+]] = %[[ZERO:c0[_0-9]*]] to %[[GRID]] step %c1{{[_0-9]*}} {
// CHECK-NEXT: scf.for %[[T:[^ ]+]] = %[[ZERO]] to %[[BLOCK]] step %c1{{[_0-9]*}} {
// CHECK-NEXT: %[[BASE:[^ ]+]] = arith.muli %[[B]], %[[BLOCK]] : index
// CHECK-NEXT: %[[ID:[^ ]+]] = arith.addi %[[BASE]], %[[T]] : index
// CHECK-NEXT: %[[BYZ:[^ ]+]] = arith.addi %[[ZERO]], %[[ZERO]] : index
// CHECK-NEXT: %[[TYZ:[^ ]+]] = arith.addi %[[ZERO]], %[[ZERO]] : index
// CHECK-NEXT: %[[YZ:[^ ]+]] = arith.addi %[[BYZ]], %[[TYZ]] : index
// CHECK-NEXT: %[[I:[^ ]+]] = arith.addi %[[ID]], %[[YZ]] : index
// CHECK-NEXT: memref.store %[[ID]], %[[OUT]][%[[I]]] : memref<1024xindex>
// CHECK-NEXT: memref.store %[[GRID]], %[[SIZES]][%[[ZERO]]] : memref<6xindex>
// CHECK-NEXT: memref.store %[[ONE]], %[[SIZES]][%[[ZERO]]] : memref<6xindex>
// CHECK-NEXT: memref.store %[[ONE]], %[[SIZES]][%[[ZERO]]] : memref<6xindex>
// CHECK-NEXT: memref.store %[[BLOCK]], %[[SIZES]][%[[ZERO]]] : memref<6xindex>
// CHECK-NEXT: memref.store %[[ONE]], %[[SIZES]][%[[ZERO]]] : memref<6xindex>
// CHECK-NEXT: memref.store %[[ONE]], %[[SIZES]][%[[ZERO]]] : memref<6xindex>
// CHECK-NEXT: }
// CHECK-NEXT: }
// CHECK-NEXT: return
func.func @one_launch(%out: memref<1024xindex>, %sizes: memref<6xindex>) {
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %c256 = arith.constant 256 : index
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c3, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1) {
    %base = arith.muli %bx, %sx : index
    %id = arith.addi %base, %tx : index
    %byz = arith.addi %by, %bz : index
    %tyz = arith.addi %ty, %tz : index
    %yz = arith.addi %byz, %tyz : index
    %i = arith.addi %id, %yz : index
    memref.store %id, %out[%i] : memref<1024xindex>
    memref.store %gx, %sizes[%by] : memref<6xindex>
    memref.store %gy, %sizes[%by] : memref<6xindex>
    memref.store %gz, %sizes[%by] : memref<6xindex>
    memref.store %sx, %sizes[%by] : memref<6xindex>
    memref.store %sy, %sizes[%by] : memref<6xindex>
    memref.store %sz, %sizes[%by] : memref<6xindex>
    gpu.terminator
  }
  return
}

// -----

// Tests that consecutive launches become consecutive loop nests, in order, and that nested
// regions of the body (a bounds check, a reduction loop) are cloned whole.
// CHECK-LABEL: func.func @two_launches(
// CHECK-SAME: %[[A:[^:]+]]: memref<10xf32>, %[[B:[^:]+]]: memref<10x4xf32>)
// CHECK: scf.for %[[BX1:[^ ]+]] = %{{[^ ]+}} to %{{[^ ]+}} step %{{[^ ]+}} {
// CHECK-NEXT: scf.for %[[TX1:[^ ]+]] = %{{[^ ]+}} to %{{[^ ]+}} step %{{[^ ]+}} {
// CHECK: %[[ID1:[^ ]+]] = arith.addi %{{[^,]+}}, %[[TX1]] : index
// CHECK: scf.if %{{[^ ]+}} {
// CHECK-NEXT: memref.store %{{[^,]+}}, %[[A]][%[[ID1]]] : memref<10xf32>
// CHECK-NEXT: }
// CHECK-NEXT: }
// CHECK-NEXT: }
// CHECK: scf.for %[[BX2:[^ ]+]] = %{{[^ ]+}} to %{{[^ ]+}} step %{{[^ ]+}} {
// CHECK-NEXT: scf.for %[[TX2:[^ ]+]] = %{{[^ ]+}} to %{{[^ ]+}} step %{{[^ ]+}} {
// CHECK: scf.if %{{[^ ]+}} {
// CHECK-NEXT: %[[SUM:[^ ]+]] = scf.for %[[K:[^ ]+]] = %{{[^ ]+}} to %{{[^ ]+}} step %{{[^ ]+}} iter_args(%{{[^ ]+}} = %{{[^ ]+}}) -> (f32) {
// CHECK-NEXT: memref.load %[[B]][%{{[^,]+}}, %[[K]]] : memref<10x4xf32>
// CHECK: memref.store %[[SUM]], %[[A]][%{{[^]]+}}] : memref<10xf32>
// CHECK: return
func.func @two_launches(%a: memref<10xf32>, %b: memref<10x4xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  %c10 = arith.constant 10 : index
  %zero = arith.constant 0.0 : f32
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c2, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c8, %sy = %c1, %sz = %c1) {
    %base = arith.muli %bx, %sx : index
    %id = arith.addi %base, %tx : index
    %live = arith.cmpi ult, %id, %c10 : index
    scf.if %live {
      memref.store %zero, %a[%id] : memref<10xf32>
    }
    gpu.terminator
  }
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c2, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c8, %sy = %c1, %sz = %c1) {
    %base = arith.muli %bx, %sx : index
    %id = arith.addi %base, %tx : index
    %live = arith.cmpi ult, %id, %c10 : index
    scf.if %live {
      %sum = scf.for %k = %c0 to %c4 step %c1 iter_args(%acc = %zero) -> (f32) {
        %v = memref.load %b[%id, %k] : memref<10x4xf32>
        %s = arith.addf %acc, %v : f32
        scf.yield %s : f32
      }
      memref.store %sum, %a[%id] : memref<10xf32>
    }
    gpu.terminator
  }
  return
}

// -----

// Tests the pass on what vidnet-cuda-form-kernels makes of a linalg.generic (300 points: 2 blocks
// of 256 threads, a bounds check on the linear id): under PIPE, no gpu op is left and the kernel
// body runs inside the block/thread loops. (The first RUN line leaves this function alone: it
// has no launch.)
// PIPE-LABEL: func.func @formed(
// PIPE-SAME: %[[X:[^:]+]]: memref<300xf32>, %[[Y:[^:]+]]: memref<300xf32>)
// PIPE-DAG: %[[GRID:[^ ]+]] = arith.constant 2 : index
// PIPE-DAG: %[[BLOCK:[^ ]+]] = arith.constant 256 : index
// PIPE: scf.for %[[B:[^ ]+]] = %[[ZERO:c0[_0-9]*]] to %[[GRID]] step %c1{{[_0-9]*}} {
// PIPE-NEXT: scf.for %[[T:[^ ]+]] = %[[ZERO]] to %[[BLOCK]] step %c1{{[_0-9]*}} {
// PIPE: %[[BASE:[^ ]+]] = arith.muli %[[B]], %{{[^ ]+}} : index
// PIPE-NEXT: %[[ID:[^ ]+]] = arith.addi %[[BASE]], %[[T]] : index
// PIPE: %[[LIVE:[^ ]+]] = arith.cmpi ult, %[[ID]], %{{[^ ]+}} : index
// PIPE-NEXT: scf.if %[[LIVE]] {
// PIPE: %[[V:[^ ]+]] = memref.load %[[X]][%{{[^]]+}}] : memref<300xf32>
// PIPE-NEXT: %[[R:[^ ]+]] = arith.mulf %[[V]], %{{[^ ]+}} : f32
// PIPE-NEXT: memref.store %[[R]], %[[Y]][%{{[^]]+}}] : memref<300xf32>
// PIPE-NEXT: }
// PIPE-NEXT: }
// PIPE-NEXT: }
// PIPE-NEXT: return
#id = affine_map<(d0) -> (d0)>
func.func @formed(%x: memref<300xf32>, %y: memref<300xf32>) {
  %two = arith.constant 2.0 : f32
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]}
      ins(%x : memref<300xf32>) outs(%y : memref<300xf32>) {
  ^bb0(%i: f32, %o: f32):
    %m = arith.mulf %i, %two : f32
    linalg.yield %m : f32
  }
  return
}

// -----

// Tests that a launch with shared memory (workgroup attributions) is an error: its threads are
// not independent.
func.func @shared(%out: memref<4xf32>) {
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  // expected-error @+1 {{vidnet-cuda-launches-to-loops: only single-block launches without shared or private memory}}
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c4, %sy = %c1, %sz = %c1)
             workgroup(%tile : memref<4xf32, #gpu.address_space<workgroup>>) {
    %v = memref.load %tile[%tx] : memref<4xf32, #gpu.address_space<workgroup>>
    memref.store %v, %out[%tx] : memref<4xf32>
    gpu.terminator
  }
  return
}

// -----

// Tests that a launch whose body has more than one block is an error.
func.func @blocks(%out: memref<4xindex>) {
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  // expected-error @+1 {{vidnet-cuda-launches-to-loops: only single-block launches without shared or private memory}}
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c4, %sy = %c1, %sz = %c1) {
    cf.br ^bb1
  ^bb1:
    memref.store %tx, %out[%tx] : memref<4xindex>
    gpu.terminator
  }
  return
}

// -----

// Tests that a launch with private memory is an error (the memory would dangle on the host).
func.func @private_memory(%out: memref<4xf32>) {
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  // expected-error @+1 {{vidnet-cuda-launches-to-loops: only single-block launches without shared or private memory}}
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c4, %sy = %c1, %sz = %c1)
             private(%p : memref<4xf32, #gpu.address_space<private>>) {
    %v = memref.load %p[%tx] : memref<4xf32, #gpu.address_space<private>>
    memref.store %v, %out[%tx] : memref<4xf32>
    gpu.terminator
  }
  return
}

// -----

// Tests that a two-dimensional grid is an error rather than a loop over its x half.
func.func @two_dimensional(%out: memref<8xindex>) {
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c4 = arith.constant 4 : index
  // expected-error @+1 {{vidnet-cuda-launches-to-loops: only one-dimensional launches (y and z sizes 1)}}
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c4, %gy = %c2, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1) {
    memref.store %bx, %out[%bx] : memref<8xindex>
    gpu.terminator
  }
  return
}

// -----

// Tests that ids and sizes read through gpu ops (not the launch's block arguments) become the
// induction variables, 0 and the launch's sizes too.
// CHECK-LABEL: func.func @id_ops(
// CHECK-SAME: %[[OUT:.*]]: memref<4xindex>
// CHECK-DAG: %[[G:.*]] = arith.constant 2 : index
// CHECK-DAG: %[[T:.*]] = arith.constant 4 : index
// CHECK: scf.for %[[B:.*]] = %{{.*}} to %[[G]]
// CHECK: scf.for %[[TH:.*]] = %{{.*}} to %[[T]]
// CHECK: memref.store %[[B]], %[[OUT]][%[[TH]]]
// CHECK: memref.store %[[T]], %[[OUT]][%[[B]]]
func.func @id_ops(%out: memref<4xindex>) {
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c4 = arith.constant 4 : index
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c2, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c4, %sy = %c1, %sz = %c1) {
    %b = gpu.block_id x
    %t = gpu.thread_id x
    %n = gpu.block_dim x
    memref.store %b, %out[%t] : memref<4xindex>
    memref.store %n, %out[%b] : memref<4xindex>
    gpu.terminator
  }
  return
}

// -----

// Tests that a declaration (no body, no launches) is left alone instead of crashing the pass.
// DECL: func.func private @external(memref<4xf32>)
