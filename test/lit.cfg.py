# lit configuration for vidnet: vidc tests under test/lit and the golden diagnostics under
# test/diagnostics. Run through ctest, or: /usr/lib/llvm-22/bin/lit -sv build/test
import os
import lit.formats

config.name = "vidnet"
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".test", ".vnet", ".mlir"]
src = config.vidnet_source_dir
config.test_source_root = os.path.join(src, "test")
config.test_exec_root = config.vidnet_build_test_dir
config.excludes = ["unit", "fuzz", "Inputs", "CMakeLists.txt"]

config.environment["PATH"] = os.pathsep.join(
    [config.vidnet_tools_dir, config.llvm_tools_dir, config.environment.get("PATH", "")])
# One cache of compiled code for the suite, in the build tree: tests that build the same bundle
# compile it once (build_cache.test sets a cache of its own).
config.environment["VIDNET_CACHE_DIR"] = os.path.join(config.vidnet_build_test_dir, "vidc-cache")
config.substitutions.append(("%vidc", os.path.join(config.vidnet_tools_dir, "vidc")))
config.substitutions.append(("%vidrun", os.path.join(config.vidnet_tools_dir, "vidrun")))
config.substitutions.append(("%models", os.path.join(src, "models")))
config.substitutions.append(("%examples", os.path.join(src, "examples")))
config.substitutions.append(("%bench", os.path.join(src, "bench")))
config.substitutions.append(("%python", config.python_executable))
config.substitutions.append(("%vidnet-opt", os.path.join(config.vidnet_tools_dir, "vidnet-opt")))
config.substitutions.append(("%llvm-tools", config.llvm_tools_dir))
config.substitutions.append(("%llvm-libs", os.path.join(os.path.dirname(config.llvm_tools_dir), "lib")))
if config.fuzzer_path:
    config.available_features.add("fuzzer")
    config.substitutions.append(("%spec-fuzzer", config.fuzzer_path))
# The CUDA toolkit's ptxas (scripts/setup.sh says how to get it): tests that assemble cubins
# REQUIRE it and are reported UNSUPPORTED without it.
cuda_root = os.environ.get("CUDA_HOME") or "/usr/local/cuda"
if os.access(os.path.join(cuda_root, "bin", "ptxas"), os.X_OK):
    config.available_features.add("ptxas")
