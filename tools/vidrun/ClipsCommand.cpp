// `vidrun clips --dump`: the clips the model would see, as .npy, with where each came from;
// and `vidrun make-motion-set`.
#include "runtime/core/Model.h"
#include "runtime/data/MotionSet.h"
#include "runtime/io/AtomicFile.h"
#include "runtime/io/Npy.h"
#include "tools/vidrun/CommandLine.h"
#include "tools/vidrun/VideoCommands.h"
#include "tools/vidrun/VideoList.h"

#include <filesystem>
#include <limits>
#include <iostream>

namespace fs = std::filesystem;

namespace vidnet {

namespace {

bool positiveInt(const std::string &text, int64_t &out) {
  return integerIn(text, 1, std::numeric_limits<int64_t>::max(), out);
}

} // namespace

int clipsCommand(int argc, char **argv, Usage usage, Fail fail) {
  std::string dataPath, classesPath, dumpPath, framesText = "16", cropText = "112", clipsText;
  bool train = false, raw = false;
  ParsedCommand parsed;
  std::string problem = parseCommand(
      argc, argv, 2, "clips",
      {{"--data", &dataPath, "--data takes a video list (.csv, class folders, split .txt)"},
       {"--classes", &classesPath, "--classes takes a class list (one name per line)"},
       {"--dump", &dumpPath, "--dump takes the .npy file to write"},
       {"--frames", &framesText, "--frames takes the clip length L (without a bundle)"},
       {"--crop", &cropText, "--crop takes the crop size S for S x S clips (without a bundle)"},
       {"--clips", &clipsText, "--clips takes the number of clips per video (evaluation sampling)"},
       {"--train", nullptr, "", &train},
       {"--raw", nullptr, "", &raw}},
      parsed);
  if (!problem.empty())
    return usage(problem);
  if (parsed.positional.size() > 1)
    return usage("unexpected argument '" + parsed.positional[1] + "'");
  if (dataPath.empty() || dumpPath.empty())
    return usage("clips needs --data and --dump");
  rt::Manifest m;
  if (!positiveInt(framesText, m.frames) || !positiveInt(cropText, m.height))
    return usage("--frames and --crop take positive integers");
  if (!clipsText.empty())
    parsed.overrides.emplace_back("eval_clips", clipsText);
  std::string error;
  bool usageProblem = false;
  train::TrainConfig config;
  if (!buildSettings(parsed, config, error, usageProblem))
    return usageProblem ? usage(error) : fail(error);
  std::unique_ptr<rt::Bundle> bundle;
  if (!parsed.positional.empty()) {
    if (!(bundle = rt::Bundle::open(parsed.positional[0], error)))
      return fail(error);
    m = bundle->manifest();
  } else {
    m.channels = 3, m.width = m.height;
  }
  data::ClipOptions clip;
  data::VideoList list;
  if (!train::clipOptions(config, m, clip, error) ||
      !openVideoList(dataPath, classesPath, bundle ? m.classes : 0, list, std::cerr, error))
    return fail(error);

  // Training draws come from (seed, video), one clip per video; evaluation takes eval_clips.
  const int64_t perVideo = train ? 1 : config.evalClips, clipValues = 3 * m.frames * m.height * m.width;
  std::vector<float> clips;
  std::vector<uint8_t> bytes;
  nlohmann::ordered_json rows = nlohmann::ordered_json::array();
  data::BadVideos bad(&std::cerr);
  int64_t count = 0;
  auto resizeDump = [&](size_t values) {
    if (raw)
      bytes.resize(values);
    else
      clips.resize(values);
  };
  std::vector<data::ClipDraw> draws = data::evalClipDraws(perVideo);
  for (size_t i = 0; i < list.videos.size(); ++i) {
    const data::VideoItem &v = list.videos[i];
    if (train) {
      rt::Random rng(config.seed * 0x9E3779B97F4A7C15ULL ^ static_cast<uint64_t>(i));
      draws = {data::drawTrainClip(clip, rng)};
    }
    // The clips go straight to the end of the dump; a video that cannot be read is cut off again.
    const size_t at = static_cast<size_t>(count * clipValues), size = static_cast<size_t>(perVideo * clipValues);
    resizeDump(at + size);
    std::vector<data::ClipPlacement> placed;
    std::string reason;
    if (!data::readVideoClips(v.path, clip, draws, raw ? nullptr : clips.data() + at,
                              raw ? bytes.data() + at : nullptr, &placed, reason)) {
      bad.add(static_cast<int64_t>(i), v.path, reason);
      resizeDump(at);
      continue;
    }
    for (const data::ClipPlacement &p : placed)
      rows.push_back({{"path", v.path}, {"label", v.label}, {"frames", p.frames}, {"top", p.top},
                      {"left", p.left}, {"flip", p.flip}});
    count += perVideo;
  }
  if (count == 0)
    return fail("no readable video in " + dataPath);
  std::vector<int64_t> shape = raw ? std::vector<int64_t>{count, m.frames, m.height, m.width, 3}
                                   : std::vector<int64_t>{count, 3, m.frames, m.height, m.width};
  nlohmann::ordered_json index = {
      {"clips", dumpPath},
      {"shape", shape},
      {"layout", raw ? "N x L x H x W x RGB uint8: resized and cropped, before normalization"
                     : "N x C x L x H x W float32, RGB, (x / 255 - mean) / std: what the model sees"},
      {"mode", train ? "train" : "eval"},
      {"resize", {clip.resizeHeight, clip.resizeWidth}},
      {"mean", config.mean},
      {"std", config.std},
      {"skipped_videos", bad.count()},
      {"rows", rows}};
  std::string text = index.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  const std::string indexPath = fs::path(dumpPath).replace_extension(".json").string();
  bool written = raw ? rt::writeNpy(dumpPath, "|u1", shape, bytes.data(), bytes.size(), error)
                     : rt::writeNpy(dumpPath, "<f4", shape, clips.data(), clips.size() * sizeof(float), error);
  if (!written || !rt::writeFileAtomically(indexPath, {{text.data(), text.size()}}, error))
    return fail(error);
  std::cerr << "vidrun: " << count << " clips of " << list.videos.size() - static_cast<size_t>(bad.count())
            << " videos in " << dumpPath << ", each clip's source in " << indexPath << "\n";
  return 0;
}

int makeMotionSetCommand(int argc, char **argv, Usage usage, Fail fail) {
  data::MotionSetOptions o;
  std::string classes, trainPer, testPer, frames, size, seed, codec;
  ParsedCommand parsed;
  std::string problem = parseCommand(argc, argv, 2, "make-motion-set",
                                     {{"--classes", &classes, "--classes takes 2..8"},
                                      {"--train-per-class", &trainPer, "--train-per-class takes a count"},
                                      {"--test-per-class", &testPer, "--test-per-class takes a count"},
                                      {"--frames", &frames, "--frames takes the frames per video"},
                                      {"--size", &size, "--size takes WIDTHxHEIGHT, e.g. 171x128"},
                                      {"--seed", &seed, "--seed takes a non-negative integer"},
                                      {"--codec", &codec, "--codec takes an FFmpeg encoder name (mpeg4, libx264)"}},
                                     parsed);
  if (!problem.empty())
    return usage(problem);
  if (parsed.positional.size() != 1 || !parsed.overrides.empty() || !parsed.configPath.empty())
    return usage("make-motion-set takes one output directory and its own options");
  o.root = parsed.positional[0];
  auto number = [&](const std::string &text, int &dst) {
    int64_t v;
    if (text.empty())
      return true;
    if (!positiveInt(text, v) || v > 1'000'000)
      return false;
    dst = static_cast<int>(v);
    return true;
  };
  if (!number(classes, o.classes) || !number(trainPer, o.trainPerClass) || !number(testPer, o.testPerClass) ||
      !number(frames, o.frames))
    return usage("--classes, --train-per-class, --test-per-class and --frames take positive integers");
  if (!size.empty()) {
    size_t x = size.find('x');
    if (x == std::string::npos || !number(size.substr(0, x), o.width) || !number(size.substr(x + 1), o.height))
      return usage("--size takes WIDTHxHEIGHT, e.g. 171x128");
  }
  if (!seed.empty()) {
    int64_t s;
    if (!positiveInt(seed, s) && seed != "0")
      return usage("--seed takes a non-negative integer");
    o.seed = seed == "0" ? 0 : static_cast<uint64_t>(s);
  }
  if (!codec.empty()) {
    o.codec = codec;
    if (codec != "mpeg4")
      o.extension = ".mp4";
  }
  std::string error;
  if (!data::checkMotionSetOptions(o, error))
    return usage(error);
  if (!data::makeMotionSet(o, &std::cerr, error))
    return fail(error);
  return 0;
}

} // namespace vidnet
