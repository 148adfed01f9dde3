// Loop descriptions in FusedLoc metadata, and reading them back with the spec's layer and line.
#include "compiler/targets/cpu/LoopInfo.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Diagnostics.h"

using namespace mlir;

namespace vidnet::cpu {

namespace {
constexpr llvm::StringLiteral kMetadataTag = "vidnet.loop";
constexpr llvm::StringLiteral kStreamedStoreTag = "vidnet.streamed-store";
} // namespace

Location describeLoop(Location loc, const LoopInfo &info) {
  MLIRContext *ctx = loc.getContext();
  Builder b(ctx);
  auto metadata = b.getDictionaryAttr({
      b.getNamedAttr("tag", b.getStringAttr(kMetadataTag)),
      b.getNamedAttr("kind", b.getStringAttr(info.kind)),
      b.getNamedAttr("shape", b.getStringAttr(info.shape)),
      b.getNamedAttr("flops", b.getI64IntegerAttr(info.flops)),
      b.getNamedAttr("bytes", b.getI64IntegerAttr(info.bytes)),
  });
  return FusedLoc::get(ctx, {loc}, metadata);
}

LoopInfo loopInfo(Location loc) {
  LoopInfo info;
  loc->walk([&](Location l) {
    if (auto fused = dyn_cast<FusedLoc>(l)) {
      auto metadata = dyn_cast_or_null<DictionaryAttr>(fused.getMetadata());
      auto tag = metadata ? metadata.getAs<StringAttr>("tag") : StringAttr();
      if (info.kind.empty() && tag && tag.getValue() == kMetadataTag) {
        info.kind = metadata.getAs<StringAttr>("kind").str();
        info.shape = metadata.getAs<StringAttr>("shape").str();
        info.flops = metadata.getAs<IntegerAttr>("flops").getInt();
        info.bytes = metadata.getAs<IntegerAttr>("bytes").getInt();
      }
    } else if (auto name = dyn_cast<NameLoc>(l); name && info.layer.empty()) {
      info.layer = name.getName().str();
    } else if (auto file = dyn_cast<FileLineColLoc>(l); file && info.line == 0) {
      info.line = file.getLine();
    }
    return WalkResult::advance();
  });
  return info;
}

Location streamedStore(Location loc) {
  return FusedLoc::get(loc.getContext(), {loc}, StringAttr::get(loc.getContext(), kStreamedStoreTag));
}

bool isStreamedStore(Location loc) {
  bool marked = false;
  loc->walk([&](Location l) {
    auto fused = dyn_cast<FusedLoc>(l);
    auto tag = fused ? dyn_cast_or_null<StringAttr>(fused.getMetadata()) : StringAttr();
    marked = tag && tag.getValue() == kStreamedStoreTag;
    return marked ? WalkResult::interrupt() : WalkResult::advance();
  });
  return marked;
}

} // namespace vidnet::cpu
