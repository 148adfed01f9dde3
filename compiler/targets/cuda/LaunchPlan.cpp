// Launch-plan extraction: host function -> ordered launches over ABI buffers and one arena.
#include "compiler/targets/cuda/LaunchPlan.h"

#include "compiler/targets/cuda/BufferViews.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/Builders.h"

#include <map>
#include <set>

namespace vidnet::cuda {
namespace {

using namespace mlir;

constexpr int64_t kArenaAlignment = 256;  // cudaMalloc's alignment; keeps every buffer coalesced

int64_t bytesOf(MemRefType type) { return type.getNumElements() * type.getElementTypeBitWidth() / 8; }

// The spec names and lines a location covers.
void collectSpecLocations(Location loc, std::set<std::string> &names, std::set<int> &lines) {
  loc->walk([&](Location inner) {
    if (auto name = dyn_cast<NameLoc>(inner))
      names.insert(name.getName().str());
    else if (auto file = dyn_cast<FileLineColLoc>(inner))
      lines.insert(static_cast<int>(file.getLine()));
    return WalkResult::advance();
  });
}

// Buffers live from first to last launch; each gets the lowest aligned arena offset free over
// its whole life (first fit in launch order).
int64_t planArena(std::vector<int64_t> &offsets, const std::vector<int64_t> &bytes,
                  const std::vector<std::pair<int, int>> &lives) {
  std::vector<size_t> order(bytes.size());
  for (size_t i = 0; i < order.size(); ++i)
    order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return lives[a].first < lives[b].first; });
  offsets.assign(bytes.size(), 0);
  int64_t end = 0;
  std::vector<size_t> placed;
  for (size_t i : order) {
    std::vector<std::pair<int64_t, int64_t>> busy;
    for (size_t j : placed)
      if (lives[j].second >= lives[i].first && lives[i].second >= lives[j].first)
        busy.push_back({offsets[j], offsets[j] + bytes[j]});
    std::sort(busy.begin(), busy.end());
    int64_t at = 0;
    for (auto [from, to] : busy) {
      if (at + bytes[i] <= from)
        break;
      at = std::max(at, (to + kArenaAlignment - 1) / kArenaAlignment * kArenaAlignment);
    }
    offsets[i] = at;
    end = std::max(end, at + bytes[i]);
    placed.push_back(i);
  }
  return end;
}

gpu::GPUModuleOp kernelModule(ModuleOp kernels) {
  if (auto existing = kernels.lookupSymbol<gpu::GPUModuleOp>("vidnet_kernels"))
    return existing;
  OpBuilder b = OpBuilder::atBlockEnd(kernels.getBody());
  kernels->setAttr(gpu::GPUDialect::getContainerModuleAttrName(), b.getUnitAttr());
  return gpu::GPUModuleOp::create(b, kernels.getLoc(), "vidnet_kernels");
}

// A kernel's text under a fixed name (locations are not printed): kernels that print the same
// compile to the same PTX, so the launches of identical layers (r3d_18's train_step: 2328
// launches, 1408 distinct kernels) share one and NVPTX and ptxas see each once.
std::string kernelKey(gpu::GPUFuncOp kernel) {
  StringAttr name = kernel.getNameAttr();
  kernel.setName("kernel");
  std::string text;
  llvm::raw_string_ostream os(text);
  kernel->print(os, OpPrintingFlags().useLocalScope());
  kernel.setName(name);
  return text;
}

} // namespace

FailureOr<EntryPlan> extractLaunchPlan(ModuleOp module, const std::string &entry, ModuleOp kernels) {
  func::FuncOp host;
  module.walk([&](func::FuncOp f) {
    if (f.getNumArguments() && f.getArgAttr(0, "vidnet.abi"))
      host = f;
  });
  if (!host)
    return module.emitError("internal error: no exported entry point to plan");
  EntryPlan plan;
  plan.entry = entry;
  for (BlockArgument arg : host.getArguments()) {
    auto type = dyn_cast<MemRefType>(arg.getType());
    auto name = host.getArgAttrOfType<StringAttr>(arg.getArgNumber(), "vidnet.abi");
    if (!type || !type.hasStaticShape() || !name)
      return host.emitError("internal error: entry point argument is not a named static buffer");
    plan.abi.push_back({name.str(), bytesOf(type), false});
  }

  std::map<Operation *, int> allocIndex;
  std::vector<int64_t> allocBytes;
  std::vector<std::pair<int, int>> lives;
  std::vector<std::vector<std::pair<int, Operation *>>> argAllocs;  // per launch: (arg, alloc) to fix up
  gpu::GPUModuleOp into = kernelModule(kernels);
  SymbolTable intoSymbols(into);
  std::map<std::string, std::string> kernelWithKey;  // over both entry points' kernels
  for (auto existing : into.getOps<gpu::GPUFuncOp>())
    kernelWithKey.try_emplace(kernelKey(existing), existing.getName().str());
  for (Operation &op : host.getBody().front()) {
    auto launch = dyn_cast<gpu::LaunchFuncOp>(op);
    if (!launch)
      continue;
    int index = static_cast<int>(plan.launches.size());
    KernelLaunch k;
    k.kernel = entry + "_k" + std::to_string(index);
    gpu::KernelDim3 grid = launch.getGridSizeOperandValues(), block = launch.getBlockSizeOperandValues();
    Value dims[6] = {grid.x, grid.y, grid.z, block.x, block.y, block.z};
    for (int i = 0; i < 6; ++i) {
      std::optional<int64_t> v = getConstantIntValue(dims[i]);
      if (!v)
        return launch.emitError("internal error: launch size is not a constant");
      (i < 3 ? k.grid[i] : k.block[i - 3]) = *v;
    }
    auto func = SymbolTable::lookupNearestSymbolFrom<gpu::GPUFuncOp>(launch, launch.getKernel());
    if (!func)
      return launch.emitError("internal error: kernel not found");
    std::vector<std::pair<int, Operation *>> fixups;
    for (auto [i, operand] : llvm::enumerate(launch.getKernelOperands())) {
      auto type = dyn_cast<MemRefType>(operand.getType());
      if (!type)
        return launch.emitError("vidnet-cuda: kernel argument ") << i << " is not a buffer: " << operand.getType();
      Value root = rootOf(operand);
      if (auto arg = dyn_cast<BlockArgument>(root)) {
        k.args.push_back({static_cast<int>(arg.getArgNumber()), 0});
      } else if (auto alloc = root.getDefiningOp<memref::AllocOp>()) {
        auto [it, fresh] = allocIndex.try_emplace(alloc, static_cast<int>(allocBytes.size()));
        if (fresh) {
          allocBytes.push_back(bytesOf(alloc.getType()));
          lives.push_back({index, index});
        }
        lives[it->second].second = index;
        k.args.push_back({-1, 0});
        fixups.push_back({static_cast<int>(i), alloc});
      } else {
        return launch.emitError("vidnet-cuda: kernel argument ") << i << " is not a view of a buffer";
      }
    }
    // Outputs: ABI buffers some kernel stores into.
    func.walk([&](memref::StoreOp store) {
      if (auto arg = dyn_cast<BlockArgument>(rootOf(store.getMemref())); arg && arg.getOwner() == &func.front())
        if (int abi = k.args[arg.getArgNumber()].abi; abi >= 0)
          plan.abi[abi].output = true;
    });
    std::set<std::string> names;
    std::set<int> lines;
    // Every op the kernel computes: the fused ones keep their own locations.
    func.walk([&](Operation *inner) { collectSpecLocations(inner->getLoc(), names, lines); });
    k.ops.assign(names.begin(), names.end());
    k.specLines.assign(lines.begin(), lines.end());

    // One gpu.module for every distinct kernel of the bundle, under the name of its first launch.
    auto [known, fresh] = kernelWithKey.try_emplace(kernelKey(func), k.kernel);
    if (fresh) {
      auto moved = cast<gpu::GPUFuncOp>(func->clone());
      moved.setName(k.kernel);
      moved->setLoc(launch.getLoc());
      intoSymbols.insert(moved);
    } else {
      k.kernel = known->second;
    }
    argAllocs.push_back(std::move(fixups));
    plan.launches.push_back(std::move(k));
  }
  std::vector<int64_t> offsets;
  plan.arenaBytes = planArena(offsets, allocBytes, lives);
  for (int64_t bytes : allocBytes)
    plan.unplannedBytes += bytes;
  for (auto [launch, fixups] : llvm::zip(plan.launches, argAllocs))
    for (auto [arg, alloc] : fixups)
      launch.args[arg].arenaOffset = offsets[allocIndex[alloc]];
  return plan;
}

nlohmann::ordered_json toJson(const EntryPlan &plan) {
  nlohmann::ordered_json j, abi = nlohmann::ordered_json::array(), launches = nlohmann::ordered_json::array();
  for (const AbiBuffer &b : plan.abi)
    abi.push_back({{"name", b.name}, {"bytes", b.bytes}, {"output", b.output}});
  for (const KernelLaunch &k : plan.launches) {
    nlohmann::ordered_json args = nlohmann::ordered_json::array();
    for (const LaunchArg &a : k.args)
      args.push_back(a.abi >= 0 ? nlohmann::ordered_json{{"abi", a.abi}} : nlohmann::ordered_json{{"arena", a.arenaOffset}});
    launches.push_back({{"kernel", k.kernel},
                        {"grid", {k.grid[0], k.grid[1], k.grid[2]}},
                        {"block", {k.block[0], k.block[1], k.block[2]}},
                        {"shared_bytes", k.sharedBytes},
                        {"args", args}});
  }
  j["abi"] = abi;
  j["arena_bytes"] = plan.arenaBytes;
  j["launches"] = launches;
  return j;
}

} // namespace vidnet::cuda
