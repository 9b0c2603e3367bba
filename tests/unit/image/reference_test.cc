// Cases from distribution/reference's normalize_test.go and reference_test.go.

#include "image/reference.h"

#include <gtest/gtest.h>

#include <vector>

namespace silo::image {
namespace {

const std::string kHex = "1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a";

std::string normalised(std::string_view text) {
  auto r = parse_reference(text);
  return r ? r->str() : "ERROR: " + r.error().message;
}

TEST(Reference, NormalisesLikeDocker) {
  EXPECT_EQ(normalised("busybox"), "docker.io/library/busybox:latest");
  EXPECT_EQ(normalised("docker/docker"), "docker.io/docker/docker:latest");
  EXPECT_EQ(normalised("library/debian"), "docker.io/library/debian:latest");
  EXPECT_EQ(normalised("docker.io/debian"), "docker.io/library/debian:latest");
  EXPECT_EQ(normalised("docker.io/library/debian"), "docker.io/library/debian:latest");
  EXPECT_EQ(normalised("index.docker.io/debian"), "docker.io/library/debian:latest");
  EXPECT_EQ(normalised("index.docker.io/docker/docker"), "docker.io/docker/docker:latest");
  EXPECT_EQ(normalised("127.0.0.1:5000/docker/docker"), "127.0.0.1:5000/docker/docker:latest");
  EXPECT_EQ(normalised("127.0.0.1:5000/debian"), "127.0.0.1:5000/debian:latest");
  EXPECT_EQ(normalised("localhost:5000/a/b:tag"), "localhost:5000/a/b:tag");
  EXPECT_EQ(normalised("localhost/foo"), "localhost/foo:latest");
  EXPECT_EQ(normalised("192.168.0.1"), "docker.io/library/192.168.0.1:latest");
  EXPECT_EQ(normalised("192.168.0.1:80"), "docker.io/library/192.168.0.1:80");
  EXPECT_EQ(normalised("192.168.0.1:8/debian"), "192.168.0.1:8/debian:latest");
  EXPECT_EQ(normalised("[2001:db8::1]:5000/repo"), "[2001:db8::1]:5000/repo:latest");
  EXPECT_EQ(normalised("docker.io/" + kHex), "docker.io/library/" + kHex + ":latest");
  EXPECT_EQ(normalised("foo-bar.com:8080/a__b/c-----d/e.f"),
            "foo-bar.com:8080/a__b/c-----d/e.f:latest");
  EXPECT_EQ(normalised("ubuntu:Latest_1.0-rc"), "docker.io/library/ubuntu:Latest_1.0-rc");
}

TEST(Reference, SplitsDomainPathTagAndDigest) {
  auto r = parse_reference("localhost:5000/a/b:tag@sha256:" + std::string(64, 'e'));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->domain, "localhost:5000");
  EXPECT_EQ(r->path, "a/b");
  EXPECT_EQ(r->tag, "tag");
  ASSERT_TRUE(r->digest);
  EXPECT_EQ(r->digest->str(), "sha256:" + std::string(64, 'e'));
  EXPECT_EQ(r->name(), "localhost:5000/a/b");
}

TEST(Reference, DigestOnlyGetsNoDefaultTag) {
  auto r = parse_reference("busybox@sha256:" + kHex);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->tag, "");
  EXPECT_EQ(r->str(), "docker.io/library/busybox@sha256:" + kHex);
  EXPECT_EQ(r->familiar_str(), "busybox@sha256:" + kHex);
}

TEST(Reference, NoDefaultTagWhenNotAsked) {
  auto r = parse_reference("busybox", /*default_tag=*/false);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->str(), "docker.io/library/busybox");
}

TEST(Reference, FamiliarNames) {
  auto fam = [](std::string_view s) { return parse_reference(s)->familiar_str(); };
  EXPECT_EQ(fam("docker.io/library/foo"), "foo:latest");
  EXPECT_EQ(fam("docker.io/foo/bar:1"), "foo/bar:1");
  EXPECT_EQ(fam("docker.io/library/foo/bar"), "library/foo/bar:latest");
  EXPECT_EQ(fam("localhost:5000/foo"), "localhost:5000/foo:latest");
  EXPECT_EQ(fam("example.com/library/foo"), "example.com/library/foo:latest");
  // Unlike Docker, a Hub path whose first component looks like a host keeps docker.io/.
  EXPECT_EQ(fam("docker.io/my.org/app"), "docker.io/my.org/app:latest");
  EXPECT_EQ(fam("docker.io/localhost/app"), "docker.io/localhost/app:latest");
  EXPECT_EQ(parse_reference("index.docker.io/library/busybox")->familiar_name(), "busybox");
}

TEST(Reference, UppercaseRejectedWithDockersMessage) {
  for (std::string_view s : {"Busybox", "docker/Docker", "docker.io/docker/Docker",
                             "localhost:5000/Foo", "foo/Bar:tag"}) {
    auto r = parse_reference(s);
    ASSERT_FALSE(r) << s;
    EXPECT_EQ(r.error().message, "invalid reference format: repository name must be lowercase")
        << s;
    EXPECT_EQ(r.error().code, Code::Invalid);
  }
  // Uppercase is fine in a registry host and in a tag.
  EXPECT_EQ(normalised("Example.com/foo:TAG"), "Example.com/foo:TAG");
}

TEST(Reference, InvalidFormats) {
  for (const std::string& s : std::vector<std::string>{"",
                                                       "https://github.com/docker/docker",
                                                       "-docker",
                                                       "-docker/docker",
                                                       "-docker.io/docker/docker",
                                                       "docker///docker",
                                                       "docker.io/docker///docker",
                                                       "busybox:",
                                                       "busybox@",
                                                       "busybox@sha256:abc",
                                                       "a:b:c",
                                                       "foo/",
                                                       "/foo",
                                                       "foo..bar",
                                                       "foo.-bar",
                                                       "foo_-bar",
                                                       "foo___bar",
                                                       "host:/foo",
                                                       "host:5x/foo",
                                                       "ho_st.com/foo",
                                                       "[::1/foo",
                                                       "foo:" + std::string(129, 'a'),
                                                       "foo bar",
                                                       "busybox@@sha256:" + kHex}) {
    auto r = parse_reference(s);
    ASSERT_FALSE(r) << s << " parsed as " << r->str();
    EXPECT_EQ(r.error().message, "invalid reference format") << s;
  }
}

TEST(Reference, RejectsBareIdentifier) {
  auto r = parse_reference(kHex);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message,
            "invalid repository name (" + kHex + "), cannot specify 64-byte hexadecimal strings");
  EXPECT_TRUE(is_full_identifier(kHex));
  EXPECT_FALSE(is_full_identifier(kHex.substr(1)));
}

TEST(Reference, DigestValidation) {
  auto upper = parse_reference("busybox@sha256:" + std::string(64, 'A'));
  ASSERT_FALSE(upper);
  EXPECT_NE(upper.error().message.find("invalid checksum digest format"), std::string::npos);
  auto short_hex = parse_reference("busybox@sha256:" + std::string(40, 'a'));
  ASSERT_FALSE(short_hex);
  EXPECT_NE(short_hex.error().message.find("invalid checksum digest length"), std::string::npos);
  auto alg = parse_reference("busybox@md5:" + std::string(32, 'a'));
  ASSERT_FALSE(alg);
  EXPECT_NE(alg.error().message.find("unsupported digest algorithm"), std::string::npos);
  EXPECT_TRUE(parse_reference("busybox@sha512:" + std::string(128, 'a')));
}

TEST(Reference, NameLengthLimit) {
  std::string path(255 - std::string("docker.io/library/").size(), 'a');
  EXPECT_TRUE(parse_reference(path));
  auto r = parse_reference(path + "a");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "repository name must not be more than 255 characters");
}

TEST(Reference, TagAtMaximumLength) {
  EXPECT_TRUE(parse_reference("foo:" + std::string(128, 'a')));
  EXPECT_TRUE(parse_reference("foo:_x"));
  EXPECT_FALSE(parse_reference("foo:.x"));
  EXPECT_FALSE(parse_reference("foo:-x"));
}

TEST(Digest, ParsesAndPrints) {
  auto d = Digest::parse("sha256:" + kHex);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->str(), "sha256:" + kHex);
  EXPECT_EQ(d->short_str(), "sha256:1a3f5e7d9c1b…");
  EXPECT_FALSE(Digest::parse("sha256"));
  EXPECT_FALSE(Digest::parse(":" + kHex));
  EXPECT_FALSE(Digest::parse("sha256:"));
  auto bad = Digest::parse("sha256:xyz");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message, "invalid digest \"sha256:xyz\": invalid checksum digest format");
  EXPECT_EQ(Digest::of("").str(),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

}  // namespace
}  // namespace silo::image
