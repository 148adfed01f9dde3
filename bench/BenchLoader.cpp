// Video loader throughput (decoded + augmented training clips/s, per worker thread) against the
// `ffmpeg` CLI decoding the same files with as many processes, and whether it keeps up with a step.
#include "runtime/core/Random.h"
#include "runtime/data/ClipSampler.h"
#include "runtime/data/Prefetcher.h"
#include "runtime/data/VideoDecoder.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <memory>
#include <spawn.h>
#include <stdexcept>
#include <string>
#include <sys/resource.h>
#include <sys/wait.h>
#include <thread>
#include <vector>

extern char **environ;

namespace {

namespace fs = std::filesystem;
using vidnet::data::ClipOptions;

struct Options {
  std::vector<std::string> inputs;
  int64_t threads = std::max(1u, std::thread::hardware_concurrency());
  int64_t clipsPerVideo = 1, passes = 1;
  uint64_t seed = 0;
  double stepClipsPerS = 0;
  std::string ffmpeg = "ffmpeg";
  bool runFfmpeg = true;
  ClipOptions clip;
};

void usage() {
  std::fprintf(stderr,
               "usage: vidnet-bench-loader DIR_OR_FILES... [--threads N] [--frames 16] [--crop 112]\n"
               "         [--resize 128x171] [--stride 1] [--clips-per-video 1] [--step-clips-per-s X]\n"
               "         [--passes 1] [--seed 0] [--ffmpeg PATH | --no-ffmpeg]\n"
               "  Directories are searched recursively for *.mp4 *.avi *.mkv *.webm. Times a pass of the\n"
               "  loader (--threads workers) and of as many concurrent `ffmpeg` CLI decodes over the files\n"
               "  (median of --passes), after a warm-up on the first 8.\n");
}

bool parse(int argc, char **argv, Options &o) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> const char * {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "vidnet-bench-loader: %s needs a value\n", a.c_str());
        return nullptr;
      }
      return argv[++i];
    };
    const char *v = nullptr;
    try {
      if (a == "-h" || a == "--help")
        return false;
      if (a == "--no-ffmpeg") {
        o.runFfmpeg = false;
        continue;
      }
      if (a.rfind("--", 0) != 0) {
        o.inputs.push_back(a);
        continue;
      }
      if (!(v = value()))
        return false;
      if (a == "--threads")
        o.threads = std::stoll(v);
      else if (a == "--frames")
        o.clip.frames = std::stoll(v);
      else if (a == "--crop")
        o.clip.height = o.clip.width = std::stoll(v);
      else if (a == "--stride")
        o.clip.frameStride = std::stoll(v);
      else if (a == "--clips-per-video")
        o.clipsPerVideo = std::stoll(v);
      else if (a == "--step-clips-per-s")
        o.stepClipsPerS = std::stod(v);
      else if (a == "--passes")
        o.passes = std::stoll(v);
      else if (a == "--seed")
        o.seed = std::stoull(v);
      else if (a == "--ffmpeg")
        o.ffmpeg = v;
      else if (a == "--resize") {
        std::string s = v;
        size_t x = s.find('x');
        if (x == std::string::npos)
          throw std::invalid_argument(s);
        o.clip.resizeHeight = std::stoll(s.substr(0, x));
        o.clip.resizeWidth = std::stoll(s.substr(x + 1));
      } else {
        std::fprintf(stderr, "vidnet-bench-loader: unknown option %s\n", a.c_str());
        return false;
      }
    } catch (const std::exception &) {
      std::fprintf(stderr, "vidnet-bench-loader: bad value '%s' for %s\n", v ? v : "", a.c_str());
      return false;
    }
  }
  const ClipOptions &c = o.clip;
  if (o.inputs.empty() || o.threads < 1 || o.clipsPerVideo < 1 || o.passes < 1 || c.frames < 1 ||
      c.frameStride < 1 || c.height < 1 || c.resizeHeight < c.height || c.resizeWidth < c.width ||
      o.stepClipsPerS < 0) {
    std::fprintf(stderr, "vidnet-bench-loader: need files, threads/frames/stride/clips/passes >= 1 and a crop "
                         "within the resize\n");
    return false;
  }
  return true;
}

bool isVideo(const fs::path &p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char ch) { return std::tolower(ch); });
  return ext == ".mp4" || ext == ".avi" || ext == ".mkv" || ext == ".webm";
}

std::vector<std::string> collect(const std::vector<std::string> &inputs) {
  std::vector<std::string> files;
  for (const std::string &in : inputs) {
    std::error_code ec;
    if (fs::is_directory(in, ec)) {
      for (auto it = fs::recursive_directory_iterator(in, fs::directory_options::skip_permission_denied, ec);
           !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
        if (it->is_regular_file(ec) && isVideo(it->path()))
          files.push_back(it->path().string());
    } else {
      files.push_back(in);  // named explicitly: taken whatever its extension
    }
  }
  std::sort(files.begin(), files.end());
  files.erase(std::unique(files.begin(), files.end()), files.end());
  return files;
}

double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

double cpuSeconds(int who) {
  rusage u{};
  getrusage(who, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) * 1e-6;
}

struct Timing {
  double wall = 0, cpu = 0;  // seconds
  int64_t ok = 0, failed = 0, frames = 0;  // frames: of the files that succeeded (CLI side)
  std::string firstError;
};

struct Loaded {
  std::vector<float> clips;
  std::string error;
};

// One loader pass over files [0, count): a job per video, opened and read as the trainer's
// VideoBatches does, K training clips each drawn from a Random seeded by the video's index.
Timing loaderPass(const Options &o, const std::vector<std::string> &files, int64_t count) {
  const int64_t clipFloats = 3 * o.clip.frames * o.clip.height * o.clip.width;
  Timing t;
  volatile float sink = 0;  // the consumer touches each result, as the trainer's copy would
  double cpu0 = cpuSeconds(RUSAGE_SELF), start = now();
  {
    vidnet::data::Prefetcher<Loaded> loader(count, o.threads, 2 * o.threads, [&](int64_t job) {
      Loaded r;
      vidnet::rt::Random rng(o.seed * 0xD1B54A32D192ED03ULL ^ static_cast<uint64_t>(job) * 0x9E3779B97F4A7C15ULL);
      std::vector<vidnet::data::ClipDraw> draws;
      for (int64_t k = 0; k < o.clipsPerVideo; ++k)
        draws.push_back(vidnet::data::drawTrainClip(o.clip, rng));
      r.clips.resize(static_cast<size_t>(clipFloats * o.clipsPerVideo));
      const std::string &path = files[static_cast<size_t>(job)];
      auto video = vidnet::data::VideoDecoder::open(path, r.error);
      if (!video || !vidnet::data::readClips(*video, o.clip, draws, r.clips.data(), nullptr, nullptr, r.error)) {
        if (r.error.rfind(path, 0) != 0)
          r.error = path + ": " + r.error;
        r.clips.clear();
      }
      return r;
    });
    while (!loader.done()) {
      Loaded r = loader.next();
      if (r.error.empty()) {
        ++t.ok;
        sink = r.clips[r.clips.size() / 2];
      } else if (t.failed++ == 0) {
        t.firstError = r.error;
      }
    }
  }
  t.wall = now() - start;
  t.cpu = cpuSeconds(RUSAGE_SELF) - cpu0;
  (void)sink;
  return t;
}

// `ffmpeg` decoding each of files [0, count) fully (or only its first frame, to time the CLI's
// fixed cost per file: process start, library loading, probing), scaled to the loader's resize
// in RGB24, to /dev/null; `processes` at a time, each single-threaded like one loader worker.
Timing ffmpegPass(const Options &o, const std::vector<std::string> &files, const std::vector<int64_t> &frames,
                  int64_t count, int64_t processes, bool firstFrameOnly = false) {
  const std::string scale = "scale=" + std::to_string(o.clip.resizeWidth) + ":" + std::to_string(o.clip.resizeHeight);
  std::atomic<int64_t> nextFile{0};
  std::vector<Timing> parts(static_cast<size_t>(processes));
  double cpu0 = cpuSeconds(RUSAGE_CHILDREN), start = now();
  std::vector<std::thread> pool;
  for (int64_t p = 0; p < processes; ++p)
    pool.emplace_back([&, p] {
      Timing &part = parts[static_cast<size_t>(p)];
      for (int64_t i; (i = nextFile++) < count;) {
        const std::string &file = files[static_cast<size_t>(i)];
        std::vector<std::string> args = {o.ffmpeg, "-nostdin", "-v",   "error",     "-threads", "1",    "-i",
                                         file,     "-an",      "-vf",  scale,       "-pix_fmt", "rgb24", "-f",
                                         "rawvideo", "-y",     "/dev/null"};
        if (firstFrameOnly)
          args.insert(args.end() - 2, {"-frames:v", "1"});
        std::vector<char *> argv;
        for (std::string &a : args)
          argv.push_back(a.data());
        argv.push_back(nullptr);
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
        pid_t pid = 0;
        int rc = posix_spawnp(&pid, o.ffmpeg.c_str(), &actions, nullptr, argv.data(), environ);
        posix_spawn_file_actions_destroy(&actions);
        int status = 0;
        if (rc == 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
          ++part.ok;
          part.frames += frames[static_cast<size_t>(i)];
        } else if (part.failed++ == 0) {
          part.firstError = rc != 0 ? o.ffmpeg + ": " + std::strerror(rc)
                                    : file + ": ffmpeg exited with status " + std::to_string(WEXITSTATUS(status));
        }
      }
    });
  for (std::thread &th : pool)
    th.join();
  Timing t;
  t.wall = now() - start;
  t.cpu = cpuSeconds(RUSAGE_CHILDREN) - cpu0;
  for (const Timing &part : parts) {
    t.ok += part.ok;
    t.frames += part.frames;
    if (part.failed && t.failed == 0)
      t.firstError = part.firstError;
    t.failed += part.failed;
  }
  return t;
}

Timing median(std::vector<Timing> runs) {
  std::sort(runs.begin(), runs.end(), [](const Timing &a, const Timing &b) { return a.wall < b.wall; });
  return runs[runs.size() / 2];
}

} // namespace

int main(int argc, char **argv) {
  Options o;
  if (!parse(argc, argv, o)) {
    usage();
    return 2;
  }
  // Frame counts (and whether each file opens at all) before any timing; this also brings the
  // files into the page cache for both sides.
  std::vector<std::string> files;
  std::vector<int64_t> frameCounts;
  int64_t totalFrames = 0, unreadable = 0;
  for (const std::string &path : collect(o.inputs)) {
    std::string error;
    auto video = vidnet::data::VideoDecoder::open(path, error);
    if (!video) {
      if (unreadable++ == 0)
        std::fprintf(stderr, "vidnet-bench-loader: skipping %s\n", error.c_str());
      continue;
    }
    files.push_back(path);
    frameCounts.push_back(video->frameCount());
    totalFrames += video->frameCount();
  }
  if (files.empty()) {
    std::fprintf(stderr, "vidnet-bench-loader: no readable videos in the given paths\n");
    return 1;
  }
  const int64_t n = static_cast<int64_t>(files.size()), warm = std::min<int64_t>(8, n);
  const ClipOptions &c = o.clip;
  std::printf("%lld videos (%lld frames; %lld unreadable skipped), clip %lldx%lldx%lld from %lldx%lld, "
              "%lld clip(s)/video, %lld thread(s)\n",
              static_cast<long long>(n), static_cast<long long>(totalFrames), static_cast<long long>(unreadable),
              static_cast<long long>(c.frames), static_cast<long long>(c.height), static_cast<long long>(c.width),
              static_cast<long long>(c.resizeHeight), static_cast<long long>(c.resizeWidth),
              static_cast<long long>(o.clipsPerVideo), static_cast<long long>(o.threads));

  // Warm-up on the first videos, then the passes, the two sides interleaved so that a
  // neighbour's load on the machine hits both alike.
  loaderPass(o, files, warm);
  bool ffmpeg = o.runFfmpeg;
  if (ffmpeg) {
    Timing w = ffmpegPass(o, files, frameCounts, warm, o.threads);
    if (w.ok == 0) {
      std::fprintf(stderr, "vidnet-bench-loader: ffmpeg CLI baseline skipped (%s)\n", w.firstError.c_str());
      ffmpeg = false;
    }
  }
  // The CLI's fixed cost per file: one process at a time, first frame only.
  double startupMs = 0;
  if (ffmpeg) {
    Timing s = ffmpegPass(o, files, frameCounts, warm, 1, true);
    startupMs = s.ok ? 1e3 * s.wall / static_cast<double>(s.ok) : 0.0;
  }
  std::vector<Timing> loaderRuns, ffmpegRuns;
  for (int64_t p = 0; p < o.passes; ++p) {
    loaderRuns.push_back(loaderPass(o, files, n));
    if (ffmpeg)
      ffmpegRuns.push_back(ffmpegPass(o, files, frameCounts, n, o.threads));
  }
  Timing L = median(loaderRuns);
  if (L.failed)
    std::fprintf(stderr, "vidnet-bench-loader: loader failed on %lld video(s), first: %s\n",
                 static_cast<long long>(L.failed), L.firstError.c_str());
  const double clips = static_cast<double>(L.ok * o.clipsPerVideo);
  const double clipsPerS = clips / L.wall, perThread = clipsPerS / static_cast<double>(o.threads);
  const double framesPerS = clips * static_cast<double>(c.frames) / L.wall;
  const double cpuPerClip = clips > 0 ? 1e3 * L.cpu / clips : 0.0;  // all of this process: workers + consumer
  std::printf("loader: %.0f clips in %.3f s = %.1f clips/s (%.1f per thread), %.0f clip frames/s, "
              "%.1f ms CPU per clip\n",
              clips, L.wall, clipsPerS, perThread, framesPerS, cpuPerClip);

  std::string ffmpegJson =
      "\"ffmpeg_cli_s\": null, \"ffmpeg_cli_files_per_s\": null, \"ffmpeg_cli_files_per_s_per_process\": null, "
      "\"ffmpeg_cli_frames_per_s\": null, \"ffmpeg_cli_cpu_ms_per_file\": null, \"ffmpeg_cli_startup_ms\": null, "
      "\"ffmpeg_cli_decode_frames_per_s\": null, \"ratio_clips_vs_files\": null, "
      "\"ratio_frames\": null";
  if (ffmpeg) {
    Timing F = median(ffmpegRuns);
    if (F.failed)
      std::fprintf(stderr, "vidnet-bench-loader: ffmpeg failed on %lld file(s), first: %s\n",
                   static_cast<long long>(F.failed), F.firstError.c_str());
    const double cliFrames = static_cast<double>(F.frames);  // frameCount() of the files it decoded
    const double filesPerS = static_cast<double>(F.ok) / F.wall, cliFramesPerS = cliFrames / F.wall;
    const double ratio = clipsPerS / filesPerS, frameRatio = framesPerS / cliFramesPerS;
    const double cpuPerFile = F.ok ? 1e3 * F.cpu / static_cast<double>(F.ok) : 0.0;
    std::printf("ffmpeg CLI (%lld x -threads 1, full decode + scale to rgb24): %lld files in %.3f s = %.1f files/s "
                "(%.1f per process), %.0f frames/s, %.1f ms CPU per file\n",
                static_cast<long long>(o.threads), static_cast<long long>(F.ok), F.wall, filesPerS,
                filesPerS / static_cast<double>(o.threads), cliFramesPerS, cpuPerFile);
    // Without the fixed cost: every process paid it once per file, `threads` of them at a time.
    const double decodeWall = F.wall - static_cast<double>(F.ok) * startupMs * 1e-3 / static_cast<double>(o.threads);
    const double decodeFramesPerS = decodeWall > 0 ? cliFrames / decodeWall : 0.0;
    std::printf("  of which process start + probe + first frame: %.1f ms per file; decode-only estimate %.0f "
                "frames/s\n",
                startupMs, decodeFramesPerS);
    std::printf("ratio: loader clips/s / CLI files/s = %.2fx; loader clip frames/s / CLI frames/s = %.2fx "
                "(the CLI decodes every frame, the loader the clip's span from the keyframe before it)\n",
                ratio, frameRatio);
    char buf[512];
    std::snprintf(buf, sizeof buf,
                  "\"ffmpeg_cli_s\": %.4f, \"ffmpeg_cli_files_per_s\": %.2f, \"ffmpeg_cli_files_per_s_per_process\": "
                  "%.2f, \"ffmpeg_cli_frames_per_s\": %.1f, \"ffmpeg_cli_cpu_ms_per_file\": %.2f, "
                  "\"ffmpeg_cli_startup_ms\": %.1f, \"ffmpeg_cli_decode_frames_per_s\": %.1f, "
                  "\"ratio_clips_vs_files\": %.3f, \"ratio_frames\": %.3f",
                  F.wall, filesPerS, filesPerS / static_cast<double>(o.threads), cliFramesPerS, cpuPerFile, startupMs,
                  decodeFramesPerS, ratio, frameRatio);
    ffmpegJson = buf;
  }

  std::string stepJson = "\"step_clips_per_s\": null, \"keeps_up\": null, \"headroom\": null";
  if (o.stepClipsPerS > 0) {
    const double headroom = clipsPerS / o.stepClipsPerS;
    std::printf("train step at %.1f clips/s: loader %s (headroom %.2fx)\n", o.stepClipsPerS,
                headroom >= 1 ? "keeps up" : "is the bottleneck", headroom);
    char buf[160];
    std::snprintf(buf, sizeof buf, "\"step_clips_per_s\": %.2f, \"keeps_up\": %s, \"headroom\": %.3f",
                  o.stepClipsPerS, headroom >= 1 ? "true" : "false", headroom);
    stepJson = buf;
  }
  std::printf("{\"videos\": %lld, \"threads\": %lld, \"frames\": %lld, \"crop\": %lld, \"clips_per_video\": %lld, "
              "\"passes\": %lld, \"loader_s\": %.4f, \"loader_clips_per_s\": %.2f, "
              "\"loader_clips_per_s_per_thread\": %.2f, \"loader_frames_per_s\": %.1f, \"loader_cpu_ms_per_clip\": %.2f, "
              "\"loader_failed\": %lld, "
              "%s, %s}\n",
              static_cast<long long>(n), static_cast<long long>(o.threads), static_cast<long long>(c.frames),
              static_cast<long long>(c.height), static_cast<long long>(o.clipsPerVideo),
              static_cast<long long>(o.passes), L.wall, clipsPerS, perThread, framesPerS,
              cpuPerClip, static_cast<long long>(L.failed), ffmpegJson.c_str(), stepJson.c_str());
  return L.ok > 0 ? 0 : 1;
}
