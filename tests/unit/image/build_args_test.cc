// Substitution and ARG/ENV scoping, from the Dockerfile reference's examples
// ("Environment replacement", "ARG", "Scope", "Using ARG variables", "Understand how ARG
// and FROM interact").

#include "image/build_args.h"

#include <gtest/gtest.h>

namespace silo::image {
namespace {

std::string x(std::string_view w, const Vars& v, char esc = '\\') {
  auto r = expand_word(w, v, esc);
  EXPECT_TRUE(r.has_value()) << w << ": " << (r ? "" : r.error().message);
  return r ? *r : "<error>";
}

TEST(ExpandWord, DockerReferenceExamples) {
  Vars v{{"FOO", "/bar"}, {"EMPTY", ""}};
  EXPECT_EQ(x("$FOO", v), "/bar");
  EXPECT_EQ(x("${FOO}/baz", v), "/bar/baz");
  EXPECT_EQ(x("\\$FOO", v), "$FOO");
  EXPECT_EQ(x("${UNSET:-word}", v), "word");
  EXPECT_EQ(x("${EMPTY:-word}", v), "word");
  EXPECT_EQ(x("${EMPTY-word}", v), "");
  EXPECT_EQ(x("${FOO:+alt}", v), "alt");
  EXPECT_EQ(x("${UNSET:+alt}", v), "");
  EXPECT_EQ(x("${EMPTY+alt}", v), "alt");
  EXPECT_EQ(x("${UNSET:-${FOO}/x}", v), "/bar/x");
  EXPECT_EQ(x("$UNSET", v), "");
  EXPECT_EQ(x("'$FOO'", v), "$FOO");
  EXPECT_EQ(x("\"$FOO x\"", v), "/bar x");
  EXPECT_EQ(x("\"a\\\"b\\n\"", v), "a\"b\\n");  // \ escapes only " $ and \ inside "..."
  EXPECT_EQ(x("a\\ b", v), "a b");
  EXPECT_EQ(x("cost $5 and $", v), "cost  and $");  // $5 is a (never set) name
  EXPECT_EQ(x("100%$", v), "100%$");
  EXPECT_EQ(x("`$FOO", v, '`'), "$FOO");
}

TEST(ExpandWord, Errors) {
  Vars v;
  EXPECT_NE(expand_word("${A", v).error().message.find("missing '}'"), std::string::npos);
  EXPECT_NE(expand_word("${A/b/c}", v).error().message.find("unsupported modifier (/)"),
            std::string::npos);
  EXPECT_NE(expand_word("'abc", v).error().message.find("single-quote"), std::string::npos);
  EXPECT_NE(expand_word("\"abc", v).error().message.find("double-quote"), std::string::npos);
  EXPECT_EQ(expand_word("${A:?must be set}", v).error().message, "A: must be set");
  EXPECT_NE(expand_word("${}", v).error().message.find("bad substitution"), std::string::npos);
}

Dockerfile df(std::string_view text) {
  auto d = parse_dockerfile(text);
  EXPECT_TRUE(d.has_value()) << (d ? "" : d.error().message);
  return *d;
}

TEST(BuildArgs, MetaArgsOnlyInFromUnlessRedeclared) {
  auto d =
      df("ARG VERSION=latest\nARG IMG=busybox:${VERSION}\nFROM $IMG\nARG VERSION\nARG OTHER\n");
  BuildArgs args;
  for (const auto& a : d.meta_args) ASSERT_TRUE(args.declare_meta(a).has_value());
  EXPECT_EQ(*resolve_base(d.stages[0], args), "busybox:latest");
  args.begin_stage();
  EXPECT_FALSE(args.stage_vars({}).contains("VERSION"));  // not visible before its ARG
  ASSERT_TRUE(args.declare(d.stages[0].instructions[0], {}).has_value());
  ASSERT_TRUE(args.declare(d.stages[0].instructions[1], {}).has_value());
  auto vars = args.stage_vars({});
  EXPECT_EQ(vars.at("VERSION"), "latest");  // redeclared without default: the meta value
  EXPECT_FALSE(vars.contains("OTHER"));     // declared, no value
  EXPECT_FALSE(vars.contains("IMG"));
}

TEST(BuildArgs, BuildArgBeatsDefaultAndEnvBeatsArg) {
  auto d = df("FROM a\nARG CONT_IMG_VER=v1.0.0 USER=guest\nENV CONT_IMG_VER=v2\n");
  BuildArgs args(std::map<std::string, std::string>{
      {"CONT_IMG_VER", "v9"}, {"USER", "admin"}, {"UNUSED", "x"}});
  args.begin_stage();
  ASSERT_TRUE(args.declare(d.stages[0].instructions[0], {"PATH=/bin"}).has_value());
  EXPECT_EQ(args.stage_vars({}).at("CONT_IMG_VER"), "v9");
  auto vars = args.stage_vars({"CONT_IMG_VER=v2"});
  EXPECT_EQ(vars.at("CONT_IMG_VER"), "v2");
  EXPECT_EQ(args.run_env({"CONT_IMG_VER=v2"}, true), std::vector<std::string>{"USER=admin"});
  EXPECT_EQ(args.unconsumed(), std::vector<std::string>{"UNUSED"});
}

TEST(BuildArgs, ProxyArgsInRunEnvButNotInTheRecord) {
  BuildArgs args(std::map<std::string, std::string>{{"HTTP_PROXY", "http://p:3128"}});
  args.begin_stage();
  EXPECT_EQ(args.run_env({}, false), std::vector<std::string>{"HTTP_PROXY=http://p:3128"});
  EXPECT_TRUE(args.run_env({}, true).empty());
  EXPECT_TRUE(args.unconsumed().empty());
}

TEST(BuildArgs, BlankBase) {
  auto d = df("ARG IMG\nFROM ${IMG}\n");
  BuildArgs args;
  ASSERT_TRUE(args.declare_meta(d.meta_args[0]).has_value());
  EXPECT_EQ(resolve_base(d.stages[0], args).error().message,
            "Dockerfile parse error line 2: base name (${IMG}) should not be blank");
}

TEST(ExpandInstruction, EnvUsesValuesFromBeforeTheLine) {
  auto d =
      df("FROM a\nENV abc=bye def=$abc\nENV ghi=$abc\nCOPY --chown=$U $SRC ${DST:-/d}/\n"
         "RUN echo $abc\nEXPOSE $PORTS\n");
  Vars v{{"abc", "hello"}, {"U", "app"}, {"SRC", "x.txt"}, {"PORTS", "80 443/udp"}};
  const auto& in = d.stages[0].instructions;
  auto env = *expand_instruction(in[0], v);
  EXPECT_EQ(env.pairs[0].value, "bye");
  EXPECT_EQ(env.pairs[1].value, "hello");
  auto copy = *expand_instruction(in[2], v);
  EXPECT_EQ(copy.args, (std::vector<std::string>{"x.txt", "/d/"}));
  EXPECT_EQ(copy.flag("chown")->value, "app");
  EXPECT_EQ(expand_instruction(in[3], v)->args, std::vector<std::string>{"echo $abc"});
  EXPECT_EQ(expand_instruction(in[4], v)->args, (std::vector<std::string>{"80", "443/udp"}));
  auto bad = expand_instruction(*parse_instruction("ENV ${A:?unset}=1", 7), v);
  EXPECT_EQ(bad.error().message, "Dockerfile parse error line 7: ENV ${A:?unset}: A: unset");
}

}  // namespace
}  // namespace silo::image
