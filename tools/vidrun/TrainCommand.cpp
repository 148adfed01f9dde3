// `vidrun train`: argument parsing for the trainer; the loop lives in runtime/train.
#include "tools/vidrun/TrainCommand.h"

#include "runtime/core/Model.h"
#include "runtime/train/Trainer.h"

#include <iostream>
#include <optional>

namespace vidnet {

int trainCommand(int argc, char **argv, int (*usage)(const std::string &), int (*fail)(const std::string &)) {
  std::string bundleDir, configPath, clipsPath, labelsPath, weights, finetune, resumeDir;
  std::vector<std::pair<std::string, std::string>> overrides;
  for (int i = 2; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&](std::string &dst) {
      if (i + 1 >= argc || argv[i + 1][0] == '\0')
        return false;
      dst = argv[++i];
      return true;
    };
    if (arg == "--config") {
      if (!value(configPath))
        return usage("--config takes a JSON file (see configs/)");
    } else if (arg == "--data") {
      if (!value(clipsPath))
        return usage("--data takes a .npy file of clips (N x C x L x H x W)");
    } else if (arg == "--labels") {
      if (!value(labelsPath))
        return usage("--labels takes a .npy file of int64 labels");
    } else if (arg == "--weights") {
      if (!value(weights))
        return usage("--weights takes a .safetensors file");
    } else if (arg == "--finetune") {
      if (!value(finetune))
        return usage("--finetune takes a .safetensors file whose head is replaced");
    } else if (arg == "--resume") {
      if (!value(resumeDir))
        return usage("--resume takes the out_dir of the run to continue");
    } else if (arg == "--set") {
      std::string kv;
      size_t eq;
      if (!value(kv) || (eq = kv.find('=')) == std::string::npos || eq == 0)
        return usage("--set takes KEY=VALUE, e.g. --set base_lr=0.1");
      overrides.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
    } else if (arg.size() > 1 && arg[0] == '-') {
      return usage("unknown option '" + arg + "' for train");
    } else if (bundleDir.empty()) {
      bundleDir = arg;
    } else {
      return usage("unexpected argument '" + arg + "'");
    }
  }
  if (bundleDir.empty())
    return usage("no bundle given");
  if (clipsPath.empty() || labelsPath.empty())
    return usage("train needs --data and --labels");
  if (!weights.empty() + !finetune.empty() + !resumeDir.empty() > 1)
    return usage("give at most one of --weights, --finetune and --resume");

  std::string error;
  train::TrainRun run;
  run.progress = &std::cerr;
  if (!configPath.empty() && !train::loadTrainConfig(configPath, run.config, error))
    return fail(error);
  for (const auto &[key, text] : overrides)
    if (!train::applyOverride(run.config, key, text, error))
      return usage("--set " + key + "=" + text + ": " + error);
  if (!resumeDir.empty()) {
    run.config.outDir = resumeDir;
    run.resume = true;
  }
  if (!train::validateTrainConfig(run.config, error))
    return fail(error);

  std::unique_ptr<rt::Bundle> bundle = rt::Bundle::open(bundleDir, error);
  if (!bundle)
    return fail(error);
  train::ClipSet data;
  if (!train::loadClipSet(clipsPath, labelsPath, bundle->manifest(), data, error))
    return fail(error);
  rt::Model model(*bundle);
  model.initialize(run.config.seed);
  if (!weights.empty() && !model.loadWeights(weights, error))
    return fail(error);
  if (!finetune.empty() && !model.loadWeights(finetune, error, /*replaceHead=*/true, run.config.seed))
    return fail(error);
  if (!train::runTraining(model, data, run, error))
    return fail(error);
  return 0;
}

} // namespace vidnet
