// The runtime's SHA-256 against FIPS 180-2's examples and, at every padding boundary (a tail of
// 55, 56, 63, 64 bytes ...), against digests Python's hashlib gave for the same bytes: the
// digests vidc records (through LLVM) must be the ones vidrun computes.
#include "runtime/io/Sha256.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>

namespace {

using vidnet::rt::sha256Hex;

std::string ours(const std::string &text) { return sha256Hex(text.data(), text.size()); }

TEST(Sha256, FipsExamples) {
  EXPECT_EQ(ours(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(ours("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(ours("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(ours(std::string(1000000, 'a')), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

// bytes (i * 37 + 11) mod 256, i < n; expected: hashlib.sha256(...).hexdigest().
TEST(Sha256, PaddingBoundariesMatchHashlib) {
  const std::pair<int, const char *> cases[] = {
      {55, "2900465fcb533e05a158fd2b3be0e5e3b03740d83060aa3580e0d98a96bf2384"},
      {56, "31454ff48ef36af2f08fd511bdc37d9d5855ac23e992e5ff5445cb6b7674a674"},
      {63, "5f6401b96532c36de4e65beec0409b69b1d181864c8009b7a04f43e5d56350d1"},
      {64, "94eb5de4943613fd048dc93393ab06877405faa39c11f53e9386083339833e7e"},
      {65, "fc518669b6eb4b4dd91827ecacef86689c725bd5bab888fd3b26dbb196eec954"},
      {119, "b0dc41b1a384e2f1203f0351b38fbeaafceef577ce1191d5bfc25da39f721eae"},
      {120, "5df24dd802ac26132ce608dcb5f09841eef039ee0f152acf98d26d17fe4e88e6"},
      {128, "0aedd4856f8eba0963627336ad5144a9a7dbe12498e6066f0165fc97d8ddee4c"},
      {300, "9b854f0a59eabeac0b0ecaee1f5cd7ab3bfbc93e9b33e2a89ac338b237f300f2"}};
  for (const auto &[n, expected] : cases) {
    std::string bytes;
    for (int i = 0; i < n; ++i)
      bytes += static_cast<char>((i * 37 + 11) & 0xff);
    EXPECT_EQ(ours(bytes), expected) << n << " bytes";
  }
}

} // namespace
