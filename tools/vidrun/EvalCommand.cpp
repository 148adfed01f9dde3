// `vidrun eval` and `vidrun features`: K uniformly spaced centre-cropped clips per video
// through the compiled forward, decoded on worker threads ahead of the model.
#include "runtime/core/Model.h"
#include "runtime/data/Prefetcher.h"
#include "runtime/eval/ConfusionPlot.h"
#include "runtime/eval/Metrics.h"
#include "runtime/io/AtomicFile.h"
#include "runtime/io/Npy.h"
#include "tools/vidrun/CommandLine.h"
#include "tools/vidrun/VideoCommands.h"
#include "tools/vidrun/VideoList.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>

namespace fs = std::filesystem;

namespace vidnet {

namespace {

struct VideoClips {
  std::vector<float> clips;  // K x C x L x H x W
  std::string error;         // why the video was skipped
};

// What both commands share: settings, bundle, weights, the list and the clip loader.
struct VideoRun {
  train::TrainConfig config;
  std::unique_ptr<rt::Bundle> bundle;
  std::unique_ptr<rt::Model> model;
  data::VideoList list;
  data::ClipOptions clip;
  data::BadVideos bad{&std::cerr};
};

int openRun(int argc, char **argv, const std::string &command, std::vector<Option> extra, VideoRun &r,
            Usage usage, Fail fail) {
  std::string weights, dataPath, classesPath, clips, device;
  extra.push_back({"--weights", &weights, "--weights takes a .safetensors file"});
  extra.push_back({"--device", &device, "--device takes cpu or cuda"});
  extra.push_back({"--data", &dataPath, "--data takes a video list (.csv, class folders, split .txt)"});
  extra.push_back({"--classes", &classesPath, "--classes takes a class list (one name per line)"});
  extra.push_back({"--clips", &clips, "--clips takes the number of clips per video"});
  ParsedCommand parsed;
  if (std::string problem = parseCommand(argc, argv, 2, command, extra, parsed); !problem.empty())
    return usage(problem);
  if (std::string problem = oneBundle(parsed); !problem.empty())
    return usage(problem);
  if (weights.empty() || dataPath.empty())
    return usage(command + " needs --weights and --data");
  if (!clips.empty())
    parsed.overrides.emplace_back("eval_clips", clips);
  std::string error;
  bool usageProblem = false;
  if (!buildSettings(parsed, r.config, error, usageProblem))
    return usageProblem ? usage(error) : fail(error);
  if (std::string problem = deviceMismatch(parsed.positional[0], device, usageProblem); !problem.empty())
    return usageProblem ? usage(problem) : fail(problem);
  r.bundle = rt::Bundle::open(parsed.positional[0], error);
  if (!r.bundle)
    return fail(error);
  r.model = rt::Model::fromWeights(*r.bundle, weights, error);
  if (!r.model || !train::clipOptions(r.config, r.bundle->manifest(), r.clip, error) ||
      !openVideoList(dataPath, classesPath, r.bundle->manifest().classes, r.list, std::cerr, error))
    return fail(error);
  return 0;
}

// Runs every video's K clips through forward, in list order; `use` sees each readable one.
// False with the reason when the model fails (a GPU fault), which ends the command.
bool forEachVideo(VideoRun &r, const std::function<void(size_t video, const float *logits, const float *features)> &use,
                  std::string &error) {
  const rt::Manifest &m = r.bundle->manifest();
  const int64_t k = r.config.evalClips, count = static_cast<int64_t>(r.list.videos.size());
  const std::vector<data::ClipDraw> draws = data::evalClipDraws(k);
  data::Prefetcher<VideoClips> loader(count, r.config.loaderThreads, r.config.prefetchBatches, [&](int64_t i) {
    VideoClips v;
    const std::string &path = r.list.videos[static_cast<size_t>(i)].path;
    v.clips.resize(static_cast<size_t>(k * 3 * m.frames * m.height * m.width));
    // v.error stays empty when the video is read.
    data::readVideoClips(path, r.clip, draws, v.clips.data(), nullptr, nullptr, v.error);
    return v;
  });
  std::vector<float> logits(static_cast<size_t>(k * m.classes)), features(static_cast<size_t>(k * m.featureSize));
  auto start = std::chrono::steady_clock::now();
  for (int64_t i = 0; i < count; ++i) {
    VideoClips v = loader.next();
    if (!v.error.empty()) {
      r.bad.add(i, r.list.videos[static_cast<size_t>(i)].path, v.error);
      continue;
    }
    if (!r.model->forward(v.clips.data(), k, logits.data(), features.data(), error))
      return false;
    use(static_cast<size_t>(i), logits.data(), features.data());
    double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if ((i + 1) % 50 == 0 || i + 1 == count)
      std::fprintf(stderr, "video %lld/%lld  %.1f videos/s  ETA %.0f s\n", static_cast<long long>(i + 1),
                   static_cast<long long>(count), static_cast<double>(i + 1) / elapsed,
                   elapsed / static_cast<double>(i + 1) * static_cast<double>(count - i - 1));
  }
  return true;
}

} // namespace

int evalCommand(int argc, char **argv, Usage usage, Fail fail) {
  std::string outDir = "runs/eval";
  VideoRun r;
  if (int rc = openRun(argc, argv, "eval", {{"--out", &outDir, "--out takes a directory for eval.json and confusion.svg"}},
                       r, usage, fail))
    return rc;
  const rt::Manifest &m = r.bundle->manifest();
  eval::Evaluator evaluator(m.classes);
  std::string error;
  if (!forEachVideo(
          r,
          [&](size_t video, const float *logits, const float *) {
            evaluator.addVideo(r.list.videos[video].label, logits, r.config.evalClips);
          },
          error))
    return fail(error);
  eval::Report report = evaluator.report();
  nlohmann::ordered_json j = eval::reportJson(report, r.list.classes);
  j["model"] = m.model;
  j["clips_per_video"] = r.config.evalClips;
  j["skipped_videos"] = r.bad.count() + static_cast<int64_t>(r.list.missing.size());
  nlohmann::ordered_json skipped = nlohmann::ordered_json::array();
  for (const data::VideoItem &v : r.list.missing)
    skipped.push_back({{"path", v.path}, {"reason", "missing"}});
  for (const auto &[path, reason] : r.bad.list())
    skipped.push_back({{"path", path}, {"reason", reason}});
  j["skipped"] = skipped;
  std::string text = j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  std::error_code ec;
  fs::create_directories(outDir, ec);
  const std::string jsonPath = (fs::path(outDir) / "eval.json").string(),
                    svgPath = (fs::path(outDir) / "confusion.svg").string();
  if (!rt::writeFileAtomically(jsonPath, {{text.data(), text.size()}}, error) ||
      !eval::writeConfusionSvg(svgPath, report, r.list.classes, m.model, error))
    return fail(error);
  std::fprintf(stderr, "vidrun: %s on %lld videos x %lld clips: video@1 %.4f  video@5 %.4f  clip@1 %.4f%s\n",
               m.model.c_str(), static_cast<long long>(report.videos), static_cast<long long>(r.config.evalClips),
               report.videoTop1, report.videoTop5, report.clipTop1,
               r.bad.count() ? ("  (" + r.bad.summary() + ")").c_str() : "");
  nlohmann::ordered_json line = {{"model", m.model},
                                 {"videos", report.videos},
                                 {"video_top1", j["video_top1"]},
                                 {"video_top5", j["video_top5"]},
                                 {"clip_top1", j["clip_top1"]},
                                 {"mean_class_accuracy", j["mean_class_accuracy"]},
                                 {"skipped_videos", j["skipped_videos"]},
                                 {"report", jsonPath},
                                 {"confusion", svgPath}};
  std::cout << line.dump() << "\n";
  return 0;
}

int featuresCommand(int argc, char **argv, Usage usage, Fail fail) {
  std::string outPath;
  VideoRun r;
  if (int rc = openRun(argc, argv, "features", {{"--out", &outPath, "--out takes the .npy file to write"}}, r, usage,
                       fail))
    return rc;
  if (outPath.empty())
    return usage("features needs --out FEATURES.npy");
  const rt::Manifest &m = r.bundle->manifest();
  const int64_t k = r.config.evalClips, width = m.featureSize;
  std::vector<float> features;
  nlohmann::ordered_json rows = nlohmann::ordered_json::array();
  std::string error;
  auto addVideo = [&](size_t video, const float *, const float *clipFeatures) {
    // The video's vector is the mean of its clips' pooled vectors, as the video prediction
    // averages its clips.
    for (int64_t f = 0; f < width; ++f) {
      double sum = 0;
      for (int64_t c = 0; c < k; ++c)
        sum += clipFeatures[c * width + f];
      features.push_back(static_cast<float>(sum / static_cast<double>(k)));
    }
    const data::VideoItem &v = r.list.videos[video];
    rows.push_back({{"path", v.path}, {"label", v.label}, {"class", r.list.classes[static_cast<size_t>(v.label)]}});
  };
  if (!forEachVideo(r, addVideo, error))
    return fail(error);
  const int64_t videos = static_cast<int64_t>(rows.size());
  if (videos == 0)
    return fail("no readable video in " + std::to_string(r.list.videos.size()) + " (" + r.bad.summary() + ")");
  nlohmann::ordered_json index = {{"features", outPath},
                                  {"shape", {videos, width}},
                                  {"model", m.model},
                                  {"clips_per_video", k},
                                  {"rows", rows}};
  std::string text = index.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  const std::string indexPath = fs::path(outPath).replace_extension(".json").string();
  if (!rt::writeNpy(outPath, "<f4", {videos, width}, features.data(), features.size() * sizeof(float), error) ||
      !rt::writeFileAtomically(indexPath, {{text.data(), text.size()}}, error))
    return fail(error);
  std::cerr << "vidrun: " << videos << " x " << width << " features in " << outPath << ", rows named in " << indexPath
            << (r.bad.count() ? " (" + r.bad.summary() + ")" : "") << "\n";
  return 0;
}

} // namespace vidnet
