// The bundle contract: what vidc writes and vidrun reads, named once for both sides (neither
// side's headers: the runtime must not see MLIR, the compiler must not see the runtime).
#pragma once

namespace vidnet::bundle {

inline constexpr const char *kFormat = "vidnet-bundle";
// 2: the CPU forward takes a buffer of prepared weights (entry_points.forward.prepare).
// 3: "files" records the byte size and SHA-256 of every file the runtime maps or loads.
inline constexpr int kManifestVersion = 3;

inline constexpr const char *kManifestFile = "manifest.json";
inline constexpr const char *kLibraryFile = "model.so";    // CPU bundles
inline constexpr const char *kCubinFile = "kernels.cubin";  // CUDA bundles
inline constexpr const char *kPtxFile = "kernels.ptx";

// What a parallel loop of the CPU code computes: the `kind` of the loop table that the
// compiler writes into model.so and `vidrun profile` reads.
namespace loop_kind {
inline constexpr const char *kConv = "conv";
inline constexpr const char *kConvDataGradient = "conv data gradient";
inline constexpr const char *kConvFilterGradient = "conv filter gradient";
inline constexpr const char *kFilterPacking = "filter packing";
inline constexpr const char *kSubFilterPacking = "sub-filter packing";
inline constexpr const char *kElementwise = "elementwise";
inline constexpr const char *kFill = "fill";
} // namespace loop_kind

} // namespace vidnet::bundle
