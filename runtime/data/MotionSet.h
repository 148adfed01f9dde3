// A synthetic video set whose classes differ only in motion, written as real encoded videos.
//
// Every video is a fresh random texture sliding at constant velocity (wrapping around); the
// class is the direction. Any single frame is a uniformly random shift of a random texture,
// so its distribution is the same for every class and a frame-level model (f-R2D) stays at
// chance, while a model that looks across frames (R(2+1)D) can learn the label: Table 2 of
// Tran et al., "A Closer Look at Spatiotemporal Convolutions for Action Recognition" (CVPR
// 2018), in miniature.
#pragma once

#include <array>
#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

namespace vidnet::data {

struct MotionSetOptions {
  std::string root; // output directory, created with its parents
  int classes = 4;  // 2..8, in the order of motionClassNames
  int trainPerClass = 40, testPerClass = 10;
  int frames = 24;
  // 171x128 is the frame size C3D and R(2+1)D resize to before their 112x112 crop. mpeg4 takes
  // the odd width; libx264 with yuv420p does not (use an even width with it).
  int width = 171, height = 128;
  int fps = 25;
  // Pixels per frame at width x height, drawn uniformly per video. 2..4 keeps the motion near
  // 1 px/frame after a downscale to a third (or to 64x48), so it survives a small input.
  float minSpeed = 2.0f, maxSpeed = 4.0f;
  // Standard deviation in pixels of the Gaussian that smooths the noise: blobs about 4x this
  // across, i.e. several pixels after the same downscale.
  float textureSigma = 3.0f;
  uint64_t seed = 1;
  std::string codec = "mpeg4", extension = ".avi";
};

// "right", "left", "down", "up", "down_right", "up_left", "down_left", "up_right", the first
// `classes` of them (opposite directions come in pairs, so every prefix is balanced).
std::vector<std::string> motionClassNames(int classes);

// The unit direction (dx, dy) of class `classIndex` in image axes: x to the right, y down.
std::array<double, 2> motionDirection(int classIndex);

enum class MotionSplit { Train, Test };

// The seed of one video, a hash of all four arguments: changing trainPerClass leaves the test
// videos as they were, and train and test are independent draws (makeMotionSet also checks
// that no two videos of a set share a seed).
uint64_t motionVideoSeed(uint64_t seed, MotionSplit split, int classIndex, int index);

// Everything but `root`: ranges above, speeds below half the smaller side (a larger shift per
// frame is indistinguishable from the opposite direction on a wrapping texture), an extension
// starting with '.'.
bool checkMotionSetOptions(const MotionSetOptions &options, std::string &error);

// One video's frames, frames x height x width x 3 bytes (RGB, row-major), exactly as
// makeMotionSet encodes them; `speedOut` gets the drawn speed in px/frame. Nothing but the
// direction depends on the class: the same `videoSeed` gives the same first frame for every
// class. Empty if the options or the class index are invalid.
std::vector<uint8_t> renderMotionVideo(const MotionSetOptions &options, int classIndex, uint64_t videoSeed,
                                       float *speedOut = nullptr);

// Writes root/train/<class>/NNNN<ext> and root/test/<class>/NNNN<ext>, root/classes.txt (one
// class name per line, in index order) and root/train.csv, root/test.csv (header "path,label",
// then lines "train/right/0000.avi,right": the path relative to root, the label a class name).
// The index files are written last and atomically, so a complete CSV means a complete set.
// Existing files of the same names are replaced; others in root are left alone (and are not in
// the CSVs). `progress`, if given, gets one summary line at the end.
bool makeMotionSet(const MotionSetOptions &options, std::ostream *progress, std::string &error);

} // namespace vidnet::data
