// Tests for runtime/data/Dataset: CSV lists, class folders, UCF101 splits, class lists and their messages.
#include "runtime/data/Dataset.h"
#include "test/unit/ScratchDir.h"

#include <filesystem>
#include <gtest/gtest.h>

using namespace vidnet::data;
namespace fs = std::filesystem;

namespace {

using Strings = std::vector<std::string>;

class DatasetTest : public vidnet::test::ScratchDirTest {
protected:
  // Writes `bytes` to dir/name, creating the folders on the way.
  std::string put(const std::string &name, const std::string &bytes = "video") const {
    fs::create_directories(fs::path(path(name)).parent_path());
    writeRaw(name, bytes);
    return path(name);
  }
  void mkdir(const std::string &name) const { fs::create_directories(path(name)); }

  // Loads and expects success; the error is printed if not.
  VideoList csv(const std::string &name, const Strings &classes = {}) const {
    VideoList out;
    std::string error;
    EXPECT_TRUE(loadCsvList(path(name), classes, out, error)) << error;
    return out;
  }
  // Loads, expects a failure that leaves `out` alone, returns the message.
  std::string csvError(const std::string &name, const Strings &classes = {}) const {
    VideoList out;
    out.classes = {"untouched"};
    std::string error;
    EXPECT_FALSE(loadCsvList(path(name), classes, out, error)) << name << " was accepted";
    EXPECT_EQ(out.classes, Strings{"untouched"}) << "a failed load must not write `out`";
    return error;
  }
};

Strings pathsOf(const std::vector<VideoItem> &items) {
  Strings out;
  for (const VideoItem &item : items)
    out.push_back(item.path);
  return out;
}

std::vector<int64_t> labelsOf(const std::vector<VideoItem> &items) {
  std::vector<int64_t> out;
  for (const VideoItem &item : items)
    out.push_back(item.label);
  return out;
}

// ---- CSV ---------------------------------------------------------------------------------

TEST_F(DatasetTest, CsvHeaderCommentsCrlfAndRelativePaths) {
  put("videos/a.mp4");
  put("lists/b.avi");
  const std::string absolute = put("elsewhere/c.mkv");
  put("lists/train.csv", "\xEF\xBB\xBFpath,label\r\n"
                         "# exported by hand\r\n"
                         "\r\n"
                         "../videos/a.mp4,run\r\n"
                         "  # an indented comment\r\n"
                         "b.avi , jump\r\n" +
                             absolute + ",run\r\n");
  VideoList list = csv("lists/train.csv");
  EXPECT_EQ(list.classes, (Strings{"jump", "run"}));
  EXPECT_EQ(pathsOf(list.videos), (Strings{path("lists/../videos/a.mp4"), path("lists/b.avi"), absolute}));
  EXPECT_EQ(labelsOf(list.videos), (std::vector<int64_t>{1, 0, 1}));
  EXPECT_EQ(list.videos[1].source, path("lists/train.csv") + ":6");
  EXPECT_TRUE(list.missing.empty());
  EXPECT_TRUE(list.ignored.empty());
}

TEST_F(DatasetTest, CsvHeaderIsCaseAndSpaceInsensitiveButOnlyFirst) {
  put("path");
  put("a.mp4");
  put("train.csv", " Path , LABEL \na.mp4,x\npath,label\n");
  VideoList list = csv("train.csv");
  // The later `path,label` is an entry: a file named "path" of class "label".
  EXPECT_EQ(pathsOf(list.videos), (Strings{path("a.mp4"), path("path")}));
  EXPECT_EQ(list.classes, (Strings{"label", "x"}));
  EXPECT_EQ(labelsOf(list.videos), (std::vector<int64_t>{1, 0}));
}

TEST_F(DatasetTest, CsvQuotedPathsKeepCommasQuotesAndHashes) {
  put("clips/a,b.mp4");
  put("say \"hi\".mp4");
  put("#1.mp4");
  put("train.csv", "\"clips/a,b.mp4\",wave\n"
                   "\"say \"\"hi\"\".mp4\" , wave\n"
                   "\"#1.mp4\",\"jump\"\n");
  VideoList list = csv("train.csv");
  EXPECT_EQ(pathsOf(list.videos), (Strings{path("clips/a,b.mp4"), path("say \"hi\".mp4"), path("#1.mp4")}));
  EXPECT_EQ(labelsOf(list.videos), (std::vector<int64_t>{1, 1, 0}));
}

TEST_F(DatasetTest, CsvNamesMapThroughTheGivenListInItsOrder) {
  put("a.mp4");
  put("b.mp4");
  put("train.csv", "a.mp4,jump\nb.mp4,wave\n");
  const Strings given{"wave", "run", "jump"};
  VideoList list = csv("train.csv", given);
  EXPECT_EQ(list.classes, given);
  EXPECT_EQ(labelsOf(list.videos), (std::vector<int64_t>{2, 0}));
}

TEST_F(DatasetTest, CsvDerivedNamesAreSortedByteWise) {
  put("a.mp4");
  put("train.csv", "a.mp4,apple\na.mp4,Zebra\na.mp4,apple\na.mp4,banana\n");
  VideoList list = csv("train.csv");
  EXPECT_EQ(list.classes, (Strings{"Zebra", "apple", "banana"}));
  EXPECT_EQ(labelsOf(list.videos), (std::vector<int64_t>{1, 0, 1, 2}));
}

TEST_F(DatasetTest, CsvIntegerLabelsDeriveDecimalNamesUpToTheMax) {
  put("a.mp4");
  put("train.csv", "a.mp4,2\na.mp4,0\na.mp4,5\n");
  VideoList list = csv("train.csv");
  EXPECT_EQ(list.classes, (Strings{"0", "1", "2", "3", "4", "5"}));
  EXPECT_EQ(labelsOf(list.videos), (std::vector<int64_t>{2, 0, 5}));
}

TEST_F(DatasetTest, CsvIntegerLabelsIndexTheGivenList) {
  put("a.mp4");
  put("train.csv", "a.mp4,4\na.mp4,0\n");
  VideoList list = csv("train.csv", {"a", "b", "c", "d", "e"});
  EXPECT_EQ(labelsOf(list.videos), (std::vector<int64_t>{4, 0}));

  put("big.csv", "a.mp4,1\n\na.mp4,5\n");
  EXPECT_EQ(csvError("big.csv", {"a", "b", "c", "d", "e"}),
            path("big.csv") + ":3: label 5 is out of range: the class list has 5 classes (0..4)");
}

TEST_F(DatasetTest, CsvIntegerLabelNamingAnotherClassIsAmbiguous) {
  put("a.mp4");
  put("train.csv", "a.mp4,1\n");
  EXPECT_EQ(csvError("train.csv", {"1", "0"}),
            path("train.csv") + ":1: label 1 is ambiguous: it is the index of a class, but the class list also "
                                "names class 0 '1'");
  // A list whose numeric names are their own indices (what integer labels derive) is fine.
  EXPECT_EQ(labelsOf(csv("train.csv", {"0", "1"}).videos), (std::vector<int64_t>{1}));
}

TEST_F(DatasetTest, CsvMixedNamesAndIndicesAreRefused) {
  put("names-first.csv", "a.mp4,jump\n# note\na.mp4,3\n");
  EXPECT_EQ(csvError("names-first.csv"), path("names-first.csv") +
                                             ":3: label '3' is a class index, but line 1 has the class name "
                                             "'jump'; use names or indices, not both");
  put("index-first.csv", "a.mp4,0\na.mp4,1\na.mp4,run\n");
  EXPECT_EQ(csvError("index-first.csv", {"run", "jump"}),
            path("index-first.csv") +
                ":3: label 'run' is a class name, but line 1 has the class index 0; use names or indices, not both");
}

TEST_F(DatasetTest, CsvUnknownNameNamesTheLineAndSuggestsACaseFix) {
  put("train.csv", "a.mp4,jump\nb.mp4,Wave\n");
  EXPECT_EQ(csvError("train.csv", {"jump", "wave", "run"}),
            path("train.csv") + ":2: label 'Wave' is not in the class list (3 classes); did you mean 'wave'?");
  put("other.csv", "a.mp4,swim\n");
  EXPECT_EQ(csvError("other.csv", {"jump"}),
            path("other.csv") + ":1: label 'swim' is not in the class list (1 classes)");
}

TEST_F(DatasetTest, CsvMalformedLinesAreRefusedWithTheirLineNumber) {
  const std::string f = path("bad.csv");
  put("bad.csv", "a.mp4,x\n\na.mp4 jump\n");
  EXPECT_EQ(csvError("bad.csv"), f + ":3: expected `path,label`, got 'a.mp4 jump'");
  put("bad.csv", "a.mp4,x\r\nclips/a,b.mp4,jump\r\n");
  EXPECT_EQ(csvError("bad.csv"), f + ":2: expected `path,label`, got 'clips/a,b.mp4,jump' (a class name cannot "
                                     "contain a comma; quote a path that does)");
  put("bad.csv", "\"a.mp4,jump\n");
  EXPECT_EQ(csvError("bad.csv"), f + ":1: unterminated quote in '\"a.mp4,jump'");
  put("bad.csv", "\"a\".mp4,jump\n");
  EXPECT_EQ(csvError("bad.csv"), f + ":1: text after a closing quote in '\"a\".mp4,jump'");
  put("bad.csv", "a\"b.mp4,jump\n");
  EXPECT_CONTAINS(csvError("bad.csv"), f + ":1: a quote inside an unquoted field");
  put("bad.csv", "a.mp4,\n");
  EXPECT_EQ(csvError("bad.csv"), f + ":1: empty label in 'a.mp4,'");
  put("bad.csv", " ,jump\n");
  EXPECT_EQ(csvError("bad.csv"), f + ":1: empty path in ' ,jump'");
  put("bad.csv", "a.mp4,-2\n");
  EXPECT_EQ(csvError("bad.csv"), f + ":1: label -2 is negative: an integer label is a class index from 0");
  put("bad.csv", "a.mp4,99999999999999999999\n");
  EXPECT_EQ(csvError("bad.csv"), f + ":1: label '99999999999999999999' is too large for a class index");
  put("bad.csv", "a.mp4,0\na.mp4,2000000\n");
  EXPECT_CONTAINS(csvError("bad.csv"), f + ":2: label 2000000 would derive the classes 0..2000000; pass a class list");
  put("bad.csv", "a.mp4,9223372036854775807\n");
  EXPECT_CONTAINS(csvError("bad.csv"),
                  f + ":1: label 9223372036854775807 would derive the classes 0..9223372036854775807");
  put("bad.csv", "a.mp4,\" jump\"\n");
  EXPECT_EQ(csvError("bad.csv"), f + ":1: label ' jump' has leading or trailing whitespace");
}

TEST_F(DatasetTest, CsvMissingVideosAreListedNotDropped) {
  put("a.mp4");
  put("c.mp4");
  mkdir("d.mp4");  // a folder is no video either
  put("train.csv", "a.mp4,run\nb.mp4,jump\nc.mp4,walk\nd.mp4,run\n");
  VideoList list = csv("train.csv");
  EXPECT_EQ(list.classes, (Strings{"jump", "run", "walk"}));
  EXPECT_EQ(pathsOf(list.videos), (Strings{path("a.mp4"), path("c.mp4")}));
  EXPECT_EQ(labelsOf(list.videos), (std::vector<int64_t>{1, 2}));
  ASSERT_EQ(list.missing.size(), 2u);
  EXPECT_EQ(list.missing[0].path, path("b.mp4"));
  EXPECT_EQ(list.missing[0].label, 0);
  EXPECT_EQ(list.missing[0].source, path("train.csv") + ":2");
  EXPECT_EQ(list.missing[1].path, path("d.mp4"));
  EXPECT_EQ(list.missing[1].label, 1);
}

TEST_F(DatasetTest, CsvFileItselfMissingOrEmptyIsAnError) {
  EXPECT_CONTAINS(csvError("nope.csv"), path("nope.csv"));
  put("empty.csv", "path,label\n# nothing yet\n");
  EXPECT_EQ(csvError("empty.csv"), path("empty.csv") + ": no entries (expected lines `path,label`)");
}

TEST_F(DatasetTest, InvalidGivenClassListIsRefused) {
  put("a.mp4");
  put("train.csv", "a.mp4,jump\n");
  EXPECT_EQ(csvError("train.csv", {"jump", "run", "jump"}), "the class list: class 2 'jump' is a duplicate of class 0");
  EXPECT_EQ(csvError("train.csv", {"jump", "a,b"}), "the class list: class 1 'a,b' contains a comma");
}

// ---- Class folders -----------------------------------------------------------------------

TEST_F(DatasetTest, ClassFoldersSortAndReportWhatTheySkip) {
  put("root/run/z.webm");
  put("root/jump/b.mp4");
  put("root/jump/a.AVI");
  put("root/jump/.hidden.mp4");
  put("root/jump/notes.txt");
  put("root/jump/nested/deep.mp4");
  put("root/.git/config");
  put("root/readme.md");
  put("root/Walk/x.MOV");
  mkdir("root/empty");
  VideoList list;
  std::string error;
  ASSERT_TRUE(loadClassFolders(path("root"), {}, list, error)) << error;
  EXPECT_EQ(list.classes, (Strings{"Walk", "empty", "jump", "run"}));
  EXPECT_EQ(pathsOf(list.videos), (Strings{path("root/Walk/x.MOV"), path("root/jump/a.AVI"), path("root/jump/b.mp4"),
                                           path("root/run/z.webm")}));
  EXPECT_EQ(labelsOf(list.videos), (std::vector<int64_t>{0, 2, 2, 3}));
  EXPECT_EQ(list.videos[1].source, path("root/jump"));
  EXPECT_EQ(list.ignored, (Strings{path("root/.git"), path("root/jump/.hidden.mp4"), path("root/jump/nested"),
                                   path("root/jump/notes.txt"), path("root/readme.md")}));
  EXPECT_TRUE(list.missing.empty());
}

TEST_F(DatasetTest, ClassFoldersMapThroughTheGivenListAndFlagDanglingLinks) {
  put("root/jump/a.mp4");
  put("root/run/b.mp4");
  mkdir("root/walk");
  fs::create_symlink(path("gone.mp4"), path("root/run/link.mp4"));
  VideoList list;
  std::string error;
  ASSERT_TRUE(loadClassFolders(path("root"), {"swim", "run", "jump", "walk"}, list, error)) << error;
  EXPECT_EQ(list.classes, (Strings{"swim", "run", "jump", "walk"}));
  // Grouped in class-index order.
  EXPECT_EQ(pathsOf(list.videos), (Strings{path("root/run/b.mp4"), path("root/jump/a.mp4")}));
  EXPECT_EQ(labelsOf(list.videos), (std::vector<int64_t>{1, 2}));
  ASSERT_EQ(list.missing.size(), 1u);
  EXPECT_EQ(list.missing[0].path, path("root/run/link.mp4"));
  EXPECT_EQ(list.missing[0].label, 1);

  EXPECT_FALSE(loadClassFolders(path("root"), {"run", "jump"}, list, error));
  EXPECT_EQ(error, path("root/walk") + ": class folder 'walk' is not in the class list (2 classes)");
}

TEST_F(DatasetTest, ClassFoldersRootMustHoldClassesWithVideos) {
  VideoList list;
  std::string error;
  EXPECT_FALSE(loadClassFolders(path("nope"), {}, list, error));
  EXPECT_EQ(error, path("nope") + ": not a directory of class folders");
  put("root/readme.md");
  EXPECT_FALSE(loadClassFolders(path("root"), {}, list, error));
  EXPECT_EQ(error, path("root") + ": no class folders (expected " + path("root") + "/<class>/<video>)");
  put("root/jump/a.txt");
  EXPECT_FALSE(loadClassFolders(path("root"), {}, list, error));
  EXPECT_EQ(error, path("root") + ": no videos (.mp4, .avi, .mkv, .webm, .mov) in its 1 class folders");
  put("root/a,b/x.mp4");
  EXPECT_FALSE(loadClassFolders(path("root"), {}, list, error));
  EXPECT_EQ(error, path("root/a,b") + ": the folder name cannot be a class name: it contains a comma");
}

// ---- UCF101 splits -----------------------------------------------------------------------

class UcfSplitTest : public DatasetTest {
protected:
  void SetUp() override {
    DatasetTest::SetUp();
    put("ucf/classInd.txt", "1 ApplyEyeMakeup\r\n2 Archery\r\n3 HandstandPushups\r\n");
    put("UCF-101/ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi");
    put("UCF-101/Archery/v_Archery_g01_c01.avi");
    put("UCF-101/HandstandPushups/v_HandStandPushups_g01_c01.avi");
  }
};

TEST_F(UcfSplitTest, TrainlistIndicesAreOneBasedIntoClassInd) {
  put("ucf/trainlist01.txt", "HandstandPushups/v_HandStandPushups_g01_c01.avi 3\r\n"
                             "ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi 1\r\n"
                             "Archery/v_Archery_g02_c01.avi 2\r\n");
  VideoList list;
  std::string error;
  ASSERT_TRUE(loadUcfSplit(path("ucf/trainlist01.txt"), path("ucf/classInd.txt"), path("UCF-101"), {}, list, error))
      << error;
  EXPECT_EQ(list.classes, (Strings{"ApplyEyeMakeup", "Archery", "HandstandPushups"}));
  EXPECT_EQ(pathsOf(list.videos), (Strings{path("UCF-101/HandstandPushups/v_HandStandPushups_g01_c01.avi"),
                                           path("UCF-101/ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi")}));
  EXPECT_EQ(labelsOf(list.videos), (std::vector<int64_t>{2, 0}));
  ASSERT_EQ(list.missing.size(), 1u);
  EXPECT_EQ(list.missing[0].label, 1);
  EXPECT_EQ(list.missing[0].source, path("ucf/trainlist01.txt") + ":3");
}

TEST_F(UcfSplitTest, TestlistClassesComeFromFolders) {
  put("ucf/testlist01.txt", "Archery/v_Archery_g01_c01.avi\nApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi\n");
  VideoList list;
  std::string error;
  // With classInd.txt: its order.
  ASSERT_TRUE(loadUcfSplit(path("ucf/testlist01.txt"), path("ucf/classInd.txt"), path("UCF-101"), {}, list, error))
      << error;
  EXPECT_EQ(list.classes.size(), 3u);
  EXPECT_EQ(labelsOf(list.videos), (std::vector<int64_t>{1, 0}));
  // Without it: the sorted folder names, only those present.
  ASSERT_TRUE(loadUcfSplit(path("ucf/testlist01.txt"), "", path("UCF-101"), {}, list, error)) << error;
  EXPECT_EQ(list.classes, (Strings{"ApplyEyeMakeup", "Archery"}));
  EXPECT_EQ(labelsOf(list.videos), (std::vector<int64_t>{1, 0}));
  // With a class list: through it.
  ASSERT_TRUE(loadUcfSplit(path("ucf/testlist01.txt"), "", path("UCF-101"), {"Archery", "X", "ApplyEyeMakeup"}, list,
                           error))
      << error;
  EXPECT_EQ(labelsOf(list.videos), (std::vector<int64_t>{0, 2}));
}

TEST_F(UcfSplitTest, BadLinesAreRefusedWithTheirLineNumber) {
  const std::string split = path("ucf/split.txt"), ind = path("ucf/classInd.txt"), root = path("UCF-101");
  VideoList list;
  std::string error;
  auto load = [&](const std::string &text, const std::string &classInd) {
    put("ucf/split.txt", text);
    EXPECT_FALSE(loadUcfSplit(split, classInd, root, {}, list, error)) << text;
    return error;
  };
  EXPECT_EQ(load("Archery/a.avi 2\nArchery/b.avi 1\n", ind),
            split + ":2: 'Archery/b.avi' is in folder 'Archery', but class index 1 is 'ApplyEyeMakeup' in " + ind);
  EXPECT_EQ(load("Archery/a.avi 4\n", ind),
            split + ":1: class index 4 is out of range: " + ind + " has 3 classes (1..3)");
  EXPECT_EQ(load("Archery/a.avi 0\n", ind),
            split + ":1: class index 0 is out of range: " + ind + " has 3 classes (1..3)");
  EXPECT_EQ(load("Archery/a.avi 2\n", ""), split + ":1: class index 2 but no classInd.txt was given");
  EXPECT_EQ(load("a.avi\n", ind), split + ":1: 'a.avi' has no class index and no class folder");
  EXPECT_EQ(load("Archery/a.avi 2 x\n", ind), split + ":1: expected `path` or `path index`, got 'Archery/a.avi 2 x'");
  EXPECT_EQ(load("Archery/a.avi two\n", ind), split + ":1: expected a class index from 1 after the path, got 'two'");
  EXPECT_EQ(load("Bowling/a.avi\n", ind), split + ":1: class 'Bowling' is not in " + ind + " (3 classes)");
  EXPECT_EQ(load("\n\n", ind), split + ": no entries (expected lines `path` or `path index`)");
  // The case-only difference the dataset itself has is accepted.
  put("ucf/split.txt", "handstandPushups/a.avi 3\n");
  EXPECT_TRUE(loadUcfSplit(split, ind, root, {}, list, error)) << error;
}

TEST_F(UcfSplitTest, ClassIndMustNumberEveryClassOnce) {
  put("ucf/testlist01.txt", "Archery/v_Archery_g01_c01.avi\n");
  const std::string ind = path("ucf/ind.txt");
  VideoList list;
  std::string error;
  auto load = [&](const std::string &text) {
    put("ucf/ind.txt", text);
    EXPECT_FALSE(loadUcfSplit(path("ucf/testlist01.txt"), ind, path("UCF-101"), {}, list, error)) << text;
    return error;
  };
  EXPECT_EQ(load("1 A\n3 B\n"), ind + ": no class with index 2 (indices go up to 3)");
  EXPECT_EQ(load("1 A\n2 B\n2 C\n"), ind + ":3: index 2 is already class 'B' (line 2)");
  EXPECT_EQ(load("1 A\n2 A\n"), ind + ":2: class 'A' is listed twice (first at line 1)");
  EXPECT_EQ(load("1 A\nB\n"), ind + ":2: expected `index name` with an index from 1, got 'B'");
  EXPECT_EQ(load("0 A\n"), ind + ":1: expected `index name` with an index from 1, got '0 A'");
  EXPECT_EQ(load(""), ind + ": no classes (expected lines `index name`)");
}

TEST_F(UcfSplitTest, LoadVideoListPicksTheLoaderFromTheSource) {
  put("ucf/trainlist01.txt", "Archery/v_Archery_g01_c01.avi 2\n");
  VideoList list;
  std::string error;
  // A split finds classInd.txt next to it; the videos are elsewhere.
  ASSERT_TRUE(loadVideoList(path("ucf/trainlist01.txt"), path("UCF-101"), {}, list, error)) << error;
  EXPECT_EQ(list.classes.size(), 3u);
  EXPECT_EQ(pathsOf(list.videos), Strings{path("UCF-101/Archery/v_Archery_g01_c01.avi")});
  EXPECT_EQ(labelsOf(list.videos), std::vector<int64_t>{1});
  // Without a video root the split's own folder is the root.
  put("UCF-101/testlist.txt", "Archery/v_Archery_g01_c01.avi\n");
  ASSERT_TRUE(loadVideoList(path("UCF-101/testlist.txt"), "", {}, list, error)) << error;
  EXPECT_EQ(pathsOf(list.videos), Strings{path("UCF-101/Archery/v_Archery_g01_c01.avi")});

  ASSERT_TRUE(loadVideoList(path("UCF-101"), "", {}, list, error)) << error;
  EXPECT_EQ(list.classes, (Strings{"ApplyEyeMakeup", "Archery", "HandstandPushups"}));
  EXPECT_EQ(list.ignored, Strings{path("UCF-101/testlist.txt")});

  put("UCF-101/list.CSV", "Archery/v_Archery_g01_c01.avi,Archery\n");
  ASSERT_TRUE(loadVideoList(path("UCF-101/list.CSV"), "", {"x", "Archery"}, list, error)) << error;
  EXPECT_EQ(labelsOf(list.videos), std::vector<int64_t>{1});

  EXPECT_FALSE(loadVideoList(path("UCF-101/list.CSV"), path("UCF-101"), {}, list, error));
  EXPECT_CONTAINS(error, "a video root applies only to UCF101 split files");
  EXPECT_FALSE(loadVideoList(path("ucf/classInd.txt"), "", {}, list, error));
  EXPECT_CONTAINS(error, "this is UCF101's class index, not a split");
  put("list.json", "{}");
  EXPECT_FALSE(loadVideoList(path("list.json"), "", {}, list, error));
  EXPECT_EQ(error,
            path("list.json") + ": expected a directory of class folders, a .csv list or a UCF101 split .txt file");
  EXPECT_FALSE(loadVideoList(path("nope.csv"), "", {}, list, error));
  EXPECT_EQ(error, path("nope.csv") + ": no such file or directory");
  EXPECT_FALSE(loadVideoList(path("ucf/trainlist01.txt"), path("nope"), {}, list, error));
  EXPECT_EQ(error, path("nope") + ": the video root is not a directory");
}

// ---- Class lists -------------------------------------------------------------------------

TEST_F(DatasetTest, ClassListRoundTrip) {
  const Strings names{"jump", "Run fast", "wave", "0"};
  std::string error;
  ASSERT_TRUE(writeClassList(path("classes.txt"), names, error)) << error;
  EXPECT_EQ(readRaw("classes.txt"), "jump\nRun fast\nwave\n0\n");
  EXPECT_EQ(listDir(), Strings{"classes.txt"}) << "no temporary file may be left behind";
  Strings read;
  ASSERT_TRUE(readClassList(path("classes.txt"), read, error)) << error;
  EXPECT_EQ(read, names);
}

TEST_F(DatasetTest, ClassListAcceptsCrlfBomAndTrailingBlankLines) {
  put("classes.txt", "\xEF\xBB\xBFjump\r\nrun\r\n\r\n\n");
  Strings read;
  std::string error;
  ASSERT_TRUE(readClassList(path("classes.txt"), read, error)) << error;
  EXPECT_EQ(read, (Strings{"jump", "run"}));
}

TEST_F(DatasetTest, ClassListRejectionsNameTheLine) {
  const std::string f = path("classes.txt");
  Strings read{"untouched"};
  std::string error;
  auto load = [&](const std::string &text) {
    put("classes.txt", text);
    EXPECT_FALSE(readClassList(f, read, error)) << text;
    EXPECT_EQ(read, Strings{"untouched"});
    return error;
  };
  EXPECT_EQ(load("jump\n\nrun\n"), f + ":2: class name '' is empty");
  EXPECT_EQ(load("jump\nrun\njump\n"), f + ":3: class name 'jump' is a duplicate of line 1");
  EXPECT_EQ(load("a,b\n"), f + ":1: class name 'a,b' contains a comma");
  EXPECT_EQ(load("jump\nrun \n"), f + ":2: class name 'run ' has leading or trailing whitespace");
  EXPECT_EQ(load("a\tb\n"), f + ":1: class name 'a?b' contains a control character");
  EXPECT_EQ(load("\n\n"), f + ": no class names");
  EXPECT_FALSE(readClassList(path("nope.txt"), read, error));
  EXPECT_CONTAINS(error, path("nope.txt"));
}

TEST_F(DatasetTest, WriteClassListRefusesWhatCouldNotBeReadBack) {
  std::string error;
  const std::string f = path("classes.txt");
  EXPECT_FALSE(writeClassList(f, {"a", "b,c"}, error));
  EXPECT_EQ(error, f + ": class 1 'b,c' contains a comma");
  EXPECT_FALSE(writeClassList(f, {"a", "b", "a"}, error));
  EXPECT_EQ(error, f + ": class 2 'a' is a duplicate of class 0");
  EXPECT_FALSE(writeClassList(f, {"a\nb"}, error));
  EXPECT_EQ(error, f + ": class 0 'a?b' contains a control character");
  EXPECT_FALSE(writeClassList(f, {}, error));
  EXPECT_EQ(error, f + ": no class names to write");
  EXPECT_TRUE(listDir().empty());
  EXPECT_FALSE(writeClassList(path("no/such/dir/classes.txt"), {"a"}, error));
  EXPECT_CONTAINS(error, "cannot create temporary file");
}

// The class list written after a first run keeps the indices of a later run fixed, even when
// that run's CSV lacks a class or adds files in a new order.
TEST_F(DatasetTest, AWrittenClassListKeepsIndicesStable) {
  put("a.mp4");
  put("run1.csv", "a.mp4,walk\na.mp4,jump\na.mp4,run\n");
  VideoList first = csv("run1.csv");
  std::string error;
  ASSERT_TRUE(writeClassList(path("classes.txt"), first.classes, error)) << error;
  Strings classes;
  ASSERT_TRUE(readClassList(path("classes.txt"), classes, error)) << error;
  put("run2.csv", "a.mp4,walk\na.mp4,aardvark\n");
  EXPECT_EQ(csvError("run2.csv", classes),
            path("run2.csv") + ":2: label 'aardvark' is not in the class list (3 classes)");
  put("run2.csv", "a.mp4,walk\na.mp4,run\n");
  EXPECT_EQ(labelsOf(csv("run2.csv", classes).videos), (std::vector<int64_t>{2, 1}));
}

} // namespace
