// `vidrun train`: argument parsing for the trainer; the loop lives in runtime/train.
#include "tools/vidrun/TrainCommand.h"

#include "runtime/core/Model.h"
#include "runtime/data/Dataset.h"
#include "runtime/data/VideoSupport.h"
#include "runtime/train/Trainer.h"
#include "tools/vidrun/CommandLine.h"
#include "tools/vidrun/VideoList.h"

#include <filesystem>
#include <iostream>

namespace vidnet {

int trainCommand(int argc, char **argv, int (*usage)(const std::string &), int (*fail)(const std::string &)) {
  std::string dataPath, labelsPath, classesPath, weights, finetune, resumeDir, device;
  ParsedCommand parsed;
  std::string problem = parseCommand(
      argc, argv, 2, "train",
      {{"--data", &dataPath, "--data takes a video list (.csv, class folders, split .txt) or a .npy of clips"},
       {"--labels", &labelsPath, "--labels takes a .npy file of int64 labels (with --data X.npy)"},
       {"--classes", &classesPath, "--classes takes a class list (one name per line)"},
       {"--weights", &weights, "--weights takes a .safetensors file"},
       {"--finetune", &finetune, "--finetune takes a .safetensors file whose head is replaced"},
       {"--resume", &resumeDir, "--resume takes the out_dir of the run to continue"},
       {"--device", &device, "--device takes cpu or cuda"}},
      parsed);
  if (problem.empty())
    problem = oneBundle(parsed);
  if (!problem.empty())
    return usage(problem);
  if (dataPath.empty())
    return usage("train needs --data");
  const bool npy = !labelsPath.empty();
  if (!weights.empty() + !finetune.empty() + !resumeDir.empty() > 1)
    return usage("give at most one of --weights, --finetune and --resume");

  if (std::string why = data::videoUnavailableReason(); !npy && !why.empty())
    return fail("train --data " + dataPath + ": " + why);

  std::string error;
  bool usageProblem = false;
  train::TrainRun run;
  run.progress = &std::cerr;
  if (!buildSettings(parsed, run.config, error, usageProblem))
    return usageProblem ? usage(error) : fail(error);
  if (!resumeDir.empty()) {
    run.config.outDir = resumeDir;
    run.resume = true;
  }

  if (std::string mismatch = deviceMismatch(parsed.positional[0], device, usageProblem); !mismatch.empty())
    return usageProblem ? usage(mismatch) : fail(mismatch);
  std::unique_ptr<rt::Bundle> bundle = rt::Bundle::open(parsed.positional[0], error);
  if (!bundle)
    return fail(error);
  const rt::Manifest &m = bundle->manifest();
  train::ClipSet clipSet;
  data::VideoList list;
  data::BadVideos bad(&std::cerr);
  std::unique_ptr<train::BatchSource> source;
  if (npy) {
    if (!train::loadClipSet(dataPath, labelsPath, m, clipSet, error))
      return fail(error);
    source = train::clipSetSource(clipSet, run.config);
  } else {
    namespace fs = std::filesystem;
    const fs::path runClasses = fs::path(run.config.outDir) / "classes.txt";
    std::error_code ec;
    if (run.resume && classesPath.empty() && fs::exists(runClasses, ec))
      classesPath = runClasses.string();
    data::ClipOptions clip;
    if (!train::clipOptions(run.config, m, clip, error) ||
        !openVideoList(dataPath, classesPath, m.classes, list, std::cerr, error))
      return fail(error);
    // The run's own copy of the class list: eval and fine-tuning read it, so an index means the
    // same class in every later run whatever files are added.
    // (Not over an existing run's: the trainer refuses to touch that one.)
    fs::create_directories(run.config.outDir, ec);
    if (!run.resume && !fs::exists(fs::path(run.config.outDir) / "ckpt" / "last.json", ec) &&
        !data::writeClassList(runClasses.string(), list.classes, error))
      return fail(error);
    std::cerr << "vidrun: " << list.videos.size() << " videos, " << list.classes.size() << " classes from " << dataPath
              << (list.missing.empty() ? "" : " (" + std::to_string(list.missing.size()) + " missing)") << "\n";
    source = train::videoSource(labelledVideos(list), clip, run.config,
                                run.config.epochs * train::stepsPerEpoch(run.config), bad);
  }
  // Drawn once from the run's seed, or (all but a fine-tuned head) read from a file.
  std::unique_ptr<rt::Model> model =
      !weights.empty()    ? rt::Model::fromWeights(*bundle, weights, error)
      : !finetune.empty() ? rt::Model::fromWeights(*bundle, finetune, error, /*replaceHead=*/true, run.config.seed)
                          : std::make_unique<rt::Model>(*bundle, run.config.seed);
  if (!model)
    return fail(error);
  if (!train::runTraining(*model, *source, run, error))
    return fail(error);
  return 0;
}

} // namespace vidnet
