#include "image/blob_store.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "temp_dir.h"

namespace silo::image {
namespace {

using testing::slurp;
using testing::TempDir;
namespace fs = std::filesystem;

class BlobStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(store_.init()); }
  size_t files_under(const std::string& sub) {
    size_t n = 0;
    for (auto& e : fs::directory_iterator(dir_.file(sub))) n += e.is_regular_file();
    return n;
  }
  TempDir dir_;
  BlobStore store_{dir_.path()};
};

TEST_F(BlobStoreTest, PutReadExistsDeleteList) {
  auto d = store_.put("hello");
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->str(), "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
  EXPECT_EQ(store_.blob_path(*d), dir_.path() + "/blobs/sha256/" + d->hex);
  EXPECT_TRUE(store_.exists(*d));
  EXPECT_EQ(*store_.size(*d), 5u);
  EXPECT_EQ(*store_.read(*d), "hello");
  EXPECT_TRUE(store_.verify(*d));
  auto e = store_.put("world");
  ASSERT_TRUE(e);
  auto all = store_.list();
  ASSERT_TRUE(all);
  EXPECT_EQ(all->size(), 2u);
  EXPECT_TRUE(std::is_sorted(all->begin(), all->end()));
  ASSERT_TRUE(store_.remove(*d));
  EXPECT_FALSE(store_.exists(*d));
  auto gone = store_.remove(*d);
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().code, Code::NotFound);
  EXPECT_NE(gone.error().message.find(d->str()), std::string::npos);
  EXPECT_EQ(store_.read(*d).error().code, Code::NotFound);
  EXPECT_EQ(store_.list()->size(), 1u);
}

TEST_F(BlobStoreTest, MismatchRejectedAndNothingLeft) {
  Digest want = Digest::of("expected content");
  auto r = store_.write(want, std::string_view("other content!!!"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::Invalid);
  EXPECT_NE(r.error().message.find("blob " + want.short_str() + " is corrupt: expected digest " +
                                   want.str() + ", got " + Digest::of("other content!!!").str()),
            std::string::npos)
      << r.error().message;
  EXPECT_FALSE(store_.exists(want));
  EXPECT_EQ(files_under("ingest"), 0u);
  EXPECT_EQ(files_under("blobs/sha256"), 0u);
}

TEST_F(BlobStoreTest, TruncationRejected) {
  std::string data = "0123456789";
  Digest want = Digest::of(data);
  std::string_view part(data.data(), 6);
  auto r = store_.write(want, data.size(), [&](char* buf, size_t len) -> Result<size_t> {
    size_t n = std::min(len, part.size());
    std::copy_n(part.data(), n, buf);
    part.remove_prefix(n);
    return n;
  });
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("is truncated: expected 10 bytes, got 6"), std::string::npos)
      << r.error().message;
  EXPECT_EQ(files_under("ingest"), 0u);
  EXPECT_FALSE(store_.exists(want));
}

TEST_F(BlobStoreTest, OverlongRejected) {
  Digest want = Digest::of("abc");
  auto in = store_.begin(want, 3);
  ASSERT_TRUE(in);
  auto w = in->write("abcd");
  ASSERT_FALSE(w);
  EXPECT_NE(w.error().message.find("expected 3 bytes, got more"), std::string::npos);
  EXPECT_EQ(files_under("ingest"), 0u);
}

TEST_F(BlobStoreTest, SourceErrorLeavesNothing) {
  Digest want = Digest::of("abc");
  auto r = store_.write(want, std::nullopt, [](char*, size_t) -> Result<size_t> {
    return fail(Code::Unavailable, "connection reset");
  });
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "blob " + want.short_str() + ": connection reset");
  EXPECT_EQ(files_under("ingest"), 0u);
}

TEST_F(BlobStoreTest, ResumesAnInterruptedIngest) {
  std::string data(200000, 'x');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>('a' + i % 26);
  Digest want = Digest::of(data);
  {
    auto in = store_.begin(want, data.size());
    ASSERT_TRUE(in);
    EXPECT_EQ(in->offset(), 0u);
    ASSERT_TRUE(in->write(std::string_view(data).substr(0, 70000)));
  }  // dropped: the connection broke
  EXPECT_EQ(files_under("ingest"), 1u);
  auto in = store_.begin(want, data.size());
  ASSERT_TRUE(in);
  EXPECT_EQ(in->offset(), 70000u);
  ASSERT_TRUE(in->write(std::string_view(data).substr(in->offset())));
  ASSERT_TRUE(in->commit());
  EXPECT_EQ(slurp(store_.blob_path(want)), data);
  EXPECT_EQ(files_under("ingest"), 0u);
}

TEST_F(BlobStoreTest, SecondWriterGetsConflict) {
  Digest want = Digest::of("abc");
  auto first = store_.begin(want, 3);
  ASSERT_TRUE(first);
  auto second = store_.begin(want, 3);
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, Code::Conflict);
  EXPECT_NE(second.error().message.find("being written by another pull"), std::string::npos);
  first->abort();
  EXPECT_TRUE(store_.begin(want, 3));
}

TEST_F(BlobStoreTest, VerifyFindsCorruption) {
  auto d = store_.put("good");
  ASSERT_TRUE(d);
  fs::permissions(store_.blob_path(*d), fs::perms::owner_write, fs::perm_options::add);
  std::ofstream(store_.blob_path(*d)) << "evil";
  auto v = store_.verify(*d);
  ASSERT_FALSE(v);
  EXPECT_NE(v.error().message.find("is corrupt: expected digest " + d->str()), std::string::npos);
}

TEST_F(BlobStoreTest, ReadRefusesHugeBlobAndOtherAlgorithms) {
  auto d = store_.put(std::string(100, 'a'));
  ASSERT_TRUE(d);
  auto r = store_.read(*d, 10);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("more than the 10 allowed"), std::string::npos);
  auto sha512 = Digest::parse("sha512:" + std::string(128, 'a'));
  ASSERT_TRUE(sha512);
  EXPECT_FALSE(store_.begin(*sha512, 1));
}

TEST_F(BlobStoreTest, ListSkipsStrayFiles) {
  ASSERT_TRUE(store_.put("a"));
  std::ofstream(dir_.file("blobs/sha256/not-a-digest")) << "x";
  EXPECT_EQ(store_.list()->size(), 1u);
}

}  // namespace
}  // namespace silo::image
