// Reading clip and label arrays from .npy files, with the checks every command shares.
#include "runtime/io/ClipArrays.h"

#include "runtime/io/Npy.h"
#include "runtime/io/ShapeText.h"

#include <algorithm>

namespace vidnet::rt {

bool readClipsNpy(const std::string &path, const std::vector<int64_t> &clipShape, std::vector<float> &clips,
                  int64_t &count, std::string &error) {
  NpyArray x;
  if (!readNpy(path, x, error))
    return false;
  if (x.shape.size() != 5 || x.shape[0] < 1 || !std::equal(x.shape.begin() + 1, x.shape.end(), clipShape.begin())) {
    error = path + ": shape " + shapeText(x.shape) + ", the bundle expects [N, " + shapeText(clipShape).substr(1) +
            " (N x C x L x H x W)";
    return false;
  }
  if (!npyAsFloat32(x, clips)) {
    error = path + ": dtype " + x.dtype + ", expected float32 (<f4) or float64 (<f8)";
    return false;
  }
  count = x.shape[0];
  return true;
}

bool readLabelsNpy(const std::string &path, int64_t count, std::vector<int64_t> &labels, std::string &error) {
  NpyArray y;
  if (!readNpy(path, y, error))
    return false;
  if (y.shape != std::vector<int64_t>{count}) {
    error = path + ": shape " + shapeText(y.shape) + ", expected [" + std::to_string(count) + "] (one label per clip)";
    return false;
  }
  if (!npyAsInt64(y, labels)) {
    error = path + ": dtype " + y.dtype + ", expected int64 (<i8) or int32 (<i4)";
    return false;
  }
  return true;
}

void clipsToChannelsLast(const float *src, int64_t n, int64_t channels, int64_t spatial, float *dst) {
  for (int64_t i = 0; i < n; ++i)
    for (int64_t c = 0; c < channels; ++c) {
      const float *from = src + (i * channels + c) * spatial;
      float *to = dst + i * channels * spatial + c;
      for (int64_t p = 0; p < spatial; ++p)
        to[p * channels] = from[p];
    }
}

} // namespace vidnet::rt
