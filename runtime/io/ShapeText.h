// Shapes as the runtime's messages print them: "[2, 3, 8, 112, 112]", "[]" for a scalar.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace vidnet::rt {

inline std::string shapeText(const std::vector<int64_t> &shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s.append(i ? ", " : "").append(std::to_string(shape[i]));
  return s + "]";
}

} // namespace vidnet::rt
