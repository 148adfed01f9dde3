// Reference tensors for the unit tests: from literal values, or uniform in [-scale, scale].
#pragma once

#include "runtime/reference/Reference.h"

#include <gtest/gtest.h>
#include <random>
#include <vector>

namespace vidnet::test {

inline ref::Tensor tensorOf(std::vector<int64_t> shape, std::vector<float> values) {
  ref::Tensor t(std::move(shape));
  EXPECT_EQ(static_cast<size_t>(t.elements()), values.size());
  t.data = std::move(values);
  return t;
}

inline ref::Tensor uniformTensor(std::vector<int64_t> shape, std::mt19937 &rng, float scale = 1.0f) {
  ref::Tensor t(std::move(shape));
  std::uniform_real_distribution<float> u(-scale, scale);
  for (float &v : t.data)
    v = u(rng);
  return t;
}

} // namespace vidnet::test
