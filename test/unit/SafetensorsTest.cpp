// Tests for runtime/io/Safetensors: the layout the reference implementation writes, round trips,
// and a precise message for every way a header or data section can be wrong.
#include "runtime/io/Safetensors.h"
#include "test/unit/ScratchDir.h"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <iterator>
#include <nlohmann/json.hpp>

using namespace vidnet::rt;
namespace fs = std::filesystem;

namespace {


class SafetensorsTest : public vidnet::test::ScratchDirTest {
protected:
  // Reads a file expected to be rejected; returns the message.
  std::string readError(const std::string &bytes) const {
    writeRaw("bad.safetensors", bytes);
    SafetensorsFile file;
    std::string error;
    EXPECT_FALSE(readSafetensors(path("bad.safetensors"), file, error)) << "accepted";
    EXPECT_EQ(error.rfind(path("bad.safetensors") + ": ", 0), 0u) << "the message should start with the path: " << error;
    return error;
  }
};

std::string u64(uint64_t v) {
  std::string s;
  for (int i = 0; i < 8; ++i)
    s += static_cast<char>((v >> (8 * i)) & 0xff);
  return s;
}

// Header length, header, data: no padding, so tests control every byte.
std::string safetensors(const std::string &header, const std::string &data) { return u64(header.size()) + header + data; }

std::string floatBytes(std::initializer_list<float> values) {
  std::string s;
  for (float v : values)
    s.append(reinterpret_cast<const char *>(&v), sizeof v);
  return s;
}

SafeTensor tensor(const std::string &dtype, std::vector<int64_t> shape, const std::string &bytes) {
  return {dtype, std::move(shape), std::vector<char>(bytes.begin(), bytes.end())};
}

TEST_F(SafetensorsTest, ReadsAFileAsTheReferenceImplementationWritesIt) {
  // safetensors.numpy.save_file({"a": np.array([1, 2], np.float32)}, f, metadata={"format": "pt"}):
  // an 85-byte header padded with 3 spaces to 88 (0x58), then the 8 data bytes.
  const std::string header = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"__metadata__":{"format":"pt"}})";
  ASSERT_EQ(header.size(), 85u);
  const std::string bytes = std::string("\x58\0\0\0\0\0\0\0", 8) + header + "   " + floatBytes({1, 2});
  writeRaw("ref.safetensors", bytes);

  SafetensorsFile file;
  std::string error;
  ASSERT_TRUE(readSafetensors(path("ref.safetensors"), file, error)) << error;
  EXPECT_EQ(file.metadata, (std::map<std::string, std::string>{{"format", "pt"}}));
  ASSERT_EQ(file.tensors.size(), 1u);
  const SafeTensor &a = file.tensors.at("a");
  EXPECT_EQ(a.dtype, "F32");
  EXPECT_EQ(a.shape, std::vector<int64_t>{2});
  float values[2];
  ASSERT_EQ(a.data.size(), sizeof values);
  std::memcpy(values, a.data.data(), sizeof values);
  EXPECT_EQ(values[0], 1.0f);
  EXPECT_EQ(values[1], 2.0f);

  // The same file without the padding is just as valid.
  writeRaw("unpadded.safetensors", safetensors(header, floatBytes({1, 2})));
  SafetensorsFile unpadded;
  ASSERT_TRUE(readSafetensors(path("unpadded.safetensors"), unpadded, error)) << error;
  EXPECT_EQ(unpadded.tensors.at("a").data, a.data);
}

TEST_F(SafetensorsTest, WritesTheReferenceLayoutByteForByte) {
  SafetensorsFile file;
  file.metadata["format"] = "pt";
  file.tensors["b"] = tensor("I64", {}, u64(7));
  file.tensors["a"] = tensor("F32", {2}, floatBytes({1, 2}));
  std::string error;
  ASSERT_TRUE(writeSafetensors(path("out.safetensors"), file, error)) << error;
  // Tensors in name order, offsets contiguous, the header padded to a multiple of 8.
  const std::string header = R"({"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                             R"("b":{"dtype":"I64","shape":[],"data_offsets":[8,16]}})";
  ASSERT_EQ(header.size(), 138u);
  EXPECT_EQ(readRaw("out.safetensors"), u64(144) + header + "      " + floatBytes({1, 2}) + u64(7));

  // The reference implementation's own test vectors (test_empty, test_serialization_forced_alignement).
  ASSERT_TRUE(writeSafetensors(path("empty.safetensors"), SafetensorsFile{}, error)) << error;
  EXPECT_EQ(readRaw("empty.safetensors"), u64(8) + "{}      ");
  SafetensorsFile framework;
  framework.metadata["framework"] = "pt";
  ASSERT_TRUE(writeSafetensors(path("framework.safetensors"), framework, error)) << error;
  EXPECT_EQ(readRaw("framework.safetensors"), u64(40) + R"({"__metadata__":{"framework":"pt"}})" + "     ");
  SafetensorsFile attn;
  attn.tensors["attn0"] = tensor("F32", {1, 1, 2, 3}, floatBytes({0, 1, 2, 3, 4, 5}));
  ASSERT_TRUE(writeSafetensors(path("attn.safetensors"), attn, error)) << error;
  EXPECT_EQ(readRaw("attn.safetensors"), u64(72) + R"({"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}})" +
                                             "       " + floatBytes({0, 1, 2, 3, 4, 5}));
  SafetensorsFile empty;
  empty.metadata["stale"] = "x";
  ASSERT_TRUE(readSafetensors(path("empty.safetensors"), empty, error)) << error;
  EXPECT_TRUE(empty.metadata.empty());
  EXPECT_TRUE(empty.tensors.empty());
}

TEST_F(SafetensorsTest, RoundTripsEveryDtypeScalarsAndEmptyTensors) {
  SafetensorsFile file;
  file.metadata = {{"format", "pt"}, {"epoch", "3"}, {"note", "clips \"16x112x112\", \u00e9t\u00e9"}, {"", ""}};
  const std::vector<std::string> dtypes = {"F64", "F32", "F16", "BF16", "I64", "I32", "I16", "I8", "U8", "BOOL",
                                           "U64", "U32", "U16", "F8_E4M3", "F8_E5M2"};
  const std::vector<std::vector<int64_t>> shapes = {{}, {0}, {5}, {2, 3}, {3, 0, 2}, {1, 2, 1, 3}};
  int n = 0;
  for (const std::string &dtype : dtypes)
    for (const auto &shape : shapes) {
      int64_t elements = 1;
      for (int64_t d : shape)
        elements *= d;
      std::string bytes(static_cast<size_t>(elements) * safetensorsDtypeSize(dtype), '\0');
      for (size_t i = 0; i < bytes.size(); ++i)
        bytes[i] = static_cast<char>(dtype == "BOOL" ? (i + n) % 2 : i * 31 + n);
      file.tensors["layer" + std::to_string(n++) + "." + dtype] = tensor(dtype, shape, bytes);
    }
  file.tensors["\u00fcnicode name/with spaces \"and quotes\""] = tensor("F32", {1}, floatBytes({3}));

  std::string error;
  ASSERT_TRUE(writeSafetensors(path("all.safetensors"), file, error)) << error;
  SafetensorsFile back;
  ASSERT_TRUE(readSafetensors(path("all.safetensors"), back, error)) << error;
  EXPECT_EQ(back.metadata, file.metadata);
  ASSERT_EQ(back.tensors.size(), file.tensors.size());
  for (const auto &[name, t] : file.tensors) {
    SCOPED_TRACE(name);
    ASSERT_EQ(back.tensors.count(name), 1u);
    EXPECT_EQ(back.tensors.at(name).dtype, t.dtype);
    EXPECT_EQ(back.tensors.at(name).shape, t.shape);
    EXPECT_EQ(back.tensors.at(name).data, t.data);
  }

  // The layout promised to other readers: data 8-aligned, offsets contiguous in name order.
  const std::string bytes = readRaw("all.safetensors");
  uint64_t headerLen = 0;
  std::memcpy(&headerLen, bytes.data(), 8);
  EXPECT_EQ(headerLen % 8, 0u);
  const nlohmann::json header = nlohmann::json::parse(bytes.substr(8, headerLen));
  uint64_t offset = 0;
  for (const auto &[name, t] : file.tensors) {
    const auto &offsets = header.at(name).at("data_offsets");
    EXPECT_EQ(offsets[0].get<uint64_t>(), offset) << name;
    offset += t.data.size();
    EXPECT_EQ(offsets[1].get<uint64_t>(), offset) << name;
  }
  EXPECT_EQ(bytes.size(), 8 + headerLen + offset);
  EXPECT_EQ(listDir(), std::vector<std::string>{"all.safetensors"});
}

TEST_F(SafetensorsTest, AcceptsEmptyTensorsAnywhere) {
  // Zero-byte tensors may share an offset with each other and with a tensor's start or end.
  const std::string header = R"({"e1":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},)"
                             R"("w":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},)"
                             R"("e2":{"dtype":"I64","shape":[2,0],"data_offsets":[4,4]},)"
                             R"("e3":{"dtype":"BF16","shape":[0,7],"data_offsets":[4,4]}})";
  writeRaw("e.safetensors", safetensors(header, "abcd"));
  SafetensorsFile file;
  std::string error;
  ASSERT_TRUE(readSafetensors(path("e.safetensors"), file, error)) << error;
  EXPECT_EQ(file.tensors.size(), 4u);
  EXPECT_EQ(file.tensors.at("e3").shape, (std::vector<int64_t>{0, 7}));
  EXPECT_EQ(std::string(file.tensors.at("w").data.begin(), file.tensors.at("w").data.end()), "abcd");
}

TEST_F(SafetensorsTest, RejectsBrokenFilesAndSaysWhy) {
  const std::string f32x2 = R"("dtype":"F32","shape":[2],"data_offsets":)";
  struct Case {
    const char *what;
    std::string bytes;
    std::vector<std::string> words;
  };
  const std::vector<Case> cases = {
      {"empty file", "", {"file is 0 bytes", "8-byte header length"}},
      {"shorter than 8 bytes", "abc", {"file is 3 bytes"}},
      {"header length past the end", u64(1000) + "{}", {"header length 1000", "larger than the 2 bytes after it"}},
      {"header length over 100 MB", u64(100'000'001) + "{}", {"header length 100000001", "100000000-byte limit"}},
      {"a .npy file", std::string("\x93NUMPY\x01\x00\x76\x00{'descr'", 18), {"limit"}},
      {"empty header", safetensors("", ""), {"header is not valid JSON"}},
      {"header not JSON", safetensors("{\"a\": [1, 2", ""), {"header is not valid JSON", "unexpected end of input"}},
      {"header not UTF-8", safetensors("{\"\xff\":1}", ""), {"header is not valid JSON", "ill-formed UTF-8", "'\"?'"}},
      {"header is an array", safetensors("[1, 2]", ""), {"header is an array, not a JSON object"}},
      {"entry not an object", safetensors(R"({"w":[1]})", ""), {"tensor 'w': entry is an array, not an object"}},
      {"no dtype", safetensors(R"({"w":{"shape":[2],"data_offsets":[0,8]}})", std::string(8, '\0')), {"tensor 'w': no 'dtype'"}},
      {"no shape", safetensors(R"({"w":{"dtype":"F32","data_offsets":[0,8]}})", std::string(8, '\0')), {"tensor 'w': no 'shape'"}},
      {"no data_offsets", safetensors(R"({"w":{"dtype":"F32","shape":[2]}})", std::string(8, '\0')),
       {"tensor 'w': no 'data_offsets'"}},
      {"dtype a number", safetensors(R"({"w":{"dtype":4,"shape":[2],"data_offsets":[0,8]}})", std::string(8, '\0')),
       {"tensor 'w': 'dtype' is the integer 4, not a string"}},
      {"unknown dtype", safetensors(R"({"w":{"dtype":"F33","shape":[2],"data_offsets":[0,8]}})", std::string(8, '\0')),
       {"tensor 'w': unknown dtype 'F33'"}},
      {"lowercase dtype", safetensors(R"({"w":{"dtype":"f32","shape":[2],"data_offsets":[0,8]}})", std::string(8, '\0')),
       {"unknown dtype 'f32'"}},
      {"shape an object", safetensors(R"({"w":{"dtype":"F32","shape":{},"data_offsets":[0,8]}})", std::string(8, '\0')),
       {"tensor 'w': 'shape' is an object, not an array of integers"}},
      {"shape holds a string", safetensors(R"({"w":{"dtype":"F32","shape":["2"],"data_offsets":[0,8]}})", std::string(8, '\0')),
       {"tensor 'w': shape [\"2\"] holds a string"}},
      {"shape holds a float", safetensors(R"({"w":{"dtype":"F32","shape":[2.0],"data_offsets":[0,8]}})", std::string(8, '\0')),
       {"tensor 'w'", "holds the number 2.0"}},
      {"negative dimension", safetensors(R"({"w":{"dtype":"F32","shape":[-2, -4],"data_offsets":[0,32]}})", std::string(32, '\0')),
       {"tensor 'w': negative dimension -2"}},
      {"dimension past int64", safetensors(R"({"w":{"dtype":"U8","shape":[9223372036854775808],"data_offsets":[0,0]}})", ""),
       {"tensor 'w': dimension 9223372036854775808", "too large"}},
      {"element count overflow",
       safetensors(R"({"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,0]}})", ""),
       {"tensor 'w': F32 [4294967296, 4294967296] has more bytes than fit in 64 bits"}},
      {"data_offsets not a pair", safetensors(R"({"w":{)" + f32x2 + R"([0,4,8]}})", std::string(8, '\0')),
       {"tensor 'w': 'data_offsets' is [0,4,8], not two non-negative integers"}},
      {"data_offsets negative", safetensors(R"({"w":{)" + f32x2 + R"([-8,0]}})", std::string(8, '\0')),
       {"tensor 'w': 'data_offsets' is [-8,0]"}},
      {"end before begin", safetensors(R"({"w":{)" + f32x2 + R"([8,0]}})", std::string(8, '\0')),
       {"tensor 'w': data_offsets [8, 0) end before they begin"}},
      {"wrong byte count",
       safetensors(R"({"fc.weight":{"dtype":"F32","shape":[400,512],"data_offsets":[0,100]}})", std::string(100, '\0')),
       {"tensor 'fc.weight': data_offsets [0, 100) hold 100 bytes but F32 [400, 512] needs 819200"}},
      {"truncated data", safetensors(R"({"a":{)" + f32x2 + R"([0,8]},"b":{)" + f32x2 + R"([8,16]}})", std::string(10, '\0')),
       {"truncated", "tensor 'b' ends at byte 16", "has only 10 bytes"}},
      {"overlap", safetensors(R"({"a":{)" + f32x2 + R"([0,8]},"b":{)" + f32x2 + R"([4,12]}})", std::string(12, '\0')),
       {"tensor 'b' at data_offsets [4, 12) overlaps tensor 'a' at data_offsets [0, 8)"}},
      {"same bytes twice", safetensors(R"({"a":{)" + f32x2 + R"([0,8]},"b":{)" + f32x2 + R"([0,8]}})", std::string(8, '\0')),
       {"overlaps", "'a'", "'b'"}},
      {"hole", safetensors(R"({"a":{)" + f32x2 + R"([0,8]},"b":{)" + f32x2 + R"([12,20]}})", std::string(20, '\0')),
       {"bytes [8, 12) of the data section belong to no tensor", "before tensor 'b'"}},
      {"hole at the start", safetensors(R"({"a":{)" + f32x2 + R"([4,12]}})", std::string(12, '\0')),
       {"bytes [0, 4) of the data section belong to no tensor"}},
      {"trailing bytes", safetensors(R"({"a":{)" + f32x2 + R"([0,8]}})", std::string(11, '\0')),
       {"bytes [8, 11) at the end of the data section belong to no tensor", "3 trailing bytes"}},
      {"data without tensors", safetensors("{}", "x"), {"bytes [0, 1) at the end", "(1 trailing byte)"}},
      {"tensor named twice", safetensors(R"({"a":{)" + f32x2 + R"([0,8]},"a":{)" + f32x2 + R"([8,16]}})", std::string(16, '\0')),
       {"'a' appears twice"}},
      {"metadata not an object", safetensors(R"({"__metadata__":["pt"]})", ""), {"__metadata__ is an array, not an object"}},
      {"metadata value not a string", safetensors(R"({"__metadata__":{"format":"pt","epoch":3}})", ""),
       {"__metadata__ must map strings to strings, but 'epoch' is the integer 3"}},
      {"metadata null", safetensors(R"({"__metadata__":null})", ""), {"__metadata__ is null, not an object"}},
  };
  for (const Case &c : cases) {
    SCOPED_TRACE(c.what);
    const std::string error = readError(c.bytes);
    for (const std::string &word : c.words)
      EXPECT_CONTAINS(error, word);
  }
}

TEST_F(SafetensorsTest, ReportsMissingFilesAndKeepsTheOutput) {
  SafetensorsFile file;
  file.metadata["kept"] = "yes";
  std::string error;
  EXPECT_FALSE(readSafetensors(path("missing.safetensors"), file, error));
  EXPECT_EQ(error, path("missing.safetensors") + ": cannot open: No such file or directory");
  writeRaw("bad.safetensors", safetensors(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", "xx"));
  EXPECT_FALSE(readSafetensors(path("bad.safetensors"), file, error));
  EXPECT_EQ(file.metadata.at("kept"), "yes") << "a failed read must leave the output alone";
  EXPECT_TRUE(file.tensors.empty());
}

TEST_F(SafetensorsTest, WriteRejectsInconsistentTensorsAndWritesNothing) {
  struct Case {
    const char *what;
    SafetensorsFile file;
    std::string words;
  };
  std::vector<Case> cases(6);
  cases[0] = {"wrong byte count", {}, "tensor 'w': data has 20 bytes but F32 [2, 3] needs 24"};
  cases[0].file.tensors["w"] = tensor("F32", {2, 3}, std::string(20, '\0'));
  cases[1] = {"unknown dtype", {}, "tensor 'w': unknown dtype 'float32'"};
  cases[1].file.tensors["w"] = tensor("float32", {1}, std::string(4, '\0'));
  cases[2] = {"negative dimension", {}, "tensor 'w': shape [-1, -4] has a negative dimension"};
  cases[2].file.tensors["w"] = tensor("F32", {-1, -4}, std::string(16, '\0'));
  cases[3] = {"reserved name", {}, "tensor '__metadata__': the name is reserved"};
  cases[3].file.tensors["__metadata__"] = tensor("U8", {1}, "x");
  cases[4] = {"name not UTF-8", {}, "the name is not valid UTF-8"};
  cases[4].file.tensors["bad\xff"] = tensor("U8", {1}, "x");
  cases[5] = {"metadata not UTF-8", {}, "__metadata__ entry 'k' is not valid UTF-8"};
  cases[5].file.metadata["k"] = "\xc3";
  for (const Case &c : cases) {
    SCOPED_TRACE(c.what);
    std::string error;
    EXPECT_FALSE(writeSafetensors(path("w.safetensors"), c.file, error));
    EXPECT_EQ(error.rfind(path("w.safetensors") + ": ", 0), 0u) << error;
    EXPECT_CONTAINS(error, c.words);
  }
  EXPECT_TRUE(listDir().empty());
}

TEST_F(SafetensorsTest, WriteOntoADirectoryFailsAndLeavesNoTemporaryFile) {
  fs::create_directory(path("d"));
  SafetensorsFile file;
  file.tensors["w"] = tensor("U8", {1}, "x");
  std::string error;
  EXPECT_FALSE(writeSafetensors(path("d"), file, error));
  EXPECT_CONTAINS(error, "Is a directory");
  EXPECT_TRUE(fs::is_directory(path("d")));
  EXPECT_EQ(listDir(), std::vector<std::string>{"d"});
}

} // namespace
