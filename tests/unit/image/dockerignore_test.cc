// .dockerignore matching, with cases from moby/patternmatcher's tests and the Dockerfile
// reference's ".dockerignore file" section.

#include "image/dockerignore.h"

#include <gtest/gtest.h>

namespace silo::image {
namespace {

IgnoreMatcher m(std::string_view text) {
  auto r = IgnoreMatcher::parse(text);
  EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
  return r ? std::move(*r) : IgnoreMatcher{};
}

TEST(Dockerignore, ReferenceExample) {
  auto ig = m("# comment\n*/temp*\n*/*/temp*\ntemp?\n");
  EXPECT_TRUE(ig.excluded("somedir/temporary.txt"));
  EXPECT_TRUE(ig.excluded("somedir/temp"));
  EXPECT_TRUE(ig.excluded("somedir/subdir/temporary.txt"));
  EXPECT_TRUE(ig.excluded("tempa"));
  EXPECT_TRUE(ig.excluded("tempb/inside"));  // a parent matches
  EXPECT_FALSE(ig.excluded("temp"));
  EXPECT_FALSE(ig.excluded("temporary.txt"));
  EXPECT_FALSE(ig.excluded("a/b/c/temp"));
  EXPECT_EQ(ig.patterns().size(), 3u);
}

TEST(Dockerignore, DoubleStar) {
  auto ig = m("**/*.go\n");
  EXPECT_TRUE(ig.excluded("main.go"));
  EXPECT_TRUE(ig.excluded("a/b/c.go"));
  EXPECT_FALSE(ig.excluded("a/b/c.goo"));
  auto mid = m("a/**/z\n");
  EXPECT_TRUE(mid.excluded("a/z"));
  EXPECT_TRUE(mid.excluded("a/b/c/z"));
  EXPECT_FALSE(mid.excluded("b/a/z"));
  auto trailing = m("dir/**\n");
  EXPECT_TRUE(trailing.excluded("dir/x/y"));
  EXPECT_FALSE(trailing.excluded("dir"));
  EXPECT_TRUE(m("**\n").excluded("anything/at/all"));
}

TEST(Dockerignore, ExceptionsLaterPatternsWin) {
  auto ig = m("*.md\n!README*.md\nREADME-secret.md\n");
  EXPECT_TRUE(ig.excluded("CHANGES.md"));
  EXPECT_FALSE(ig.excluded("README.md"));
  EXPECT_TRUE(ig.excluded("README-secret.md"));
  auto docs = m("docs\n!docs/README.md\n");
  EXPECT_TRUE(docs.excluded("docs"));
  EXPECT_TRUE(docs.excluded("docs/other.md"));
  EXPECT_FALSE(docs.excluded("docs/README.md"));
  EXPECT_TRUE(docs.may_include_inside("docs"));
  EXPECT_FALSE(m("docs\n!src/keep\n").may_include_inside("docs"));
  EXPECT_TRUE(m("docs\n!**/keep\n").may_include_inside("docs"));
  EXPECT_FALSE(m("!x\n").excluded("x"));
}

TEST(Dockerignore, CleaningClassesAndEscapes) {
  auto ig = m("/abs\n./dot/\nsub/../up\nfile[0-9].txt\nnot[!a].c\nliteral\\*star\n  spaced  \r\n");
  EXPECT_TRUE(ig.excluded("abs"));
  EXPECT_TRUE(ig.excluded("dot/x"));
  EXPECT_TRUE(ig.excluded("up"));
  EXPECT_TRUE(ig.excluded("file7.txt"));
  EXPECT_FALSE(ig.excluded("filex.txt"));
  EXPECT_TRUE(ig.excluded("notb.c"));
  EXPECT_FALSE(ig.excluded("nota.c"));
  EXPECT_TRUE(ig.excluded("literal*star"));
  EXPECT_FALSE(ig.excluded("literalXstar"));
  EXPECT_TRUE(ig.excluded("spaced"));
  EXPECT_TRUE(ig.excluded("./abs/"));  // paths are cleaned too
  EXPECT_FALSE(ig.excluded("a.b"));    // "." in a pattern is literal, not a regex dot
  EXPECT_TRUE(m("a.b\n").excluded("a.b"));
  EXPECT_FALSE(m("a.b\n").excluded("axb"));
}

TEST(Dockerignore, Errors) {
  auto bad = IgnoreMatcher::parse("ok\n!\n");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().message, ".dockerignore line 2: illegal exclusion pattern: \"!\"");
  auto cls = IgnoreMatcher::parse("[a\n");
  ASSERT_FALSE(cls.has_value());
  EXPECT_EQ(cls.error().message, ".dockerignore line 1: pattern \"[a\": syntax error in pattern");
}

TEST(CleanPath, LikeGo) {
  EXPECT_EQ(clean_path(""), ".");
  EXPECT_EQ(clean_path("./a//b/./c/.."), "a/b");
  EXPECT_EQ(clean_path("../a"), "../a");
  EXPECT_EQ(clean_path("/../a"), "/a");
  EXPECT_EQ(clean_path("a/"), "a");
}

}  // namespace
}  // namespace silo::image
