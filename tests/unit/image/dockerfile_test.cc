// The Dockerfile parser against Docker's documented behaviour (docs "Dockerfile reference")
// and BuildKit's parser tests.

#include "image/dockerfile.h"

#include <gtest/gtest.h>

namespace silo::image {
namespace {

Dockerfile parse_ok(std::string_view text) {
  auto df = parse_dockerfile(text);
  EXPECT_TRUE(df.has_value()) << (df ? "" : df.error().message);
  return df ? *df : Dockerfile{};
}

std::string parse_err(std::string_view text) {
  auto df = parse_dockerfile(text);
  EXPECT_FALSE(df.has_value()) << "parsed:\n" << text;
  return df ? "" : df.error().message;
}

TEST(Dockerfile, StagesNamesAndCaseInsensitiveKeywords) {
  auto df = parse_ok(
      "# a comment\n"
      "ARG BASE=alpine\n"
      "from ${BASE} As Build\n"
      "run make\n"
      "FROM --platform=linux/arm64 scratch\n"
      "COPY --from=build /out /out\n");
  ASSERT_EQ(df.meta_args.size(), 1u);
  ASSERT_EQ(df.stages.size(), 2u);
  EXPECT_EQ(df.stages[0].name, "build");
  EXPECT_EQ(df.stages[0].base, "${BASE}");
  EXPECT_EQ(df.stages[1].platform, "linux/arm64");
  EXPECT_EQ(df.stages[1].index, 1u);
  ASSERT_EQ(df.stages[0].instructions.size(), 1u);
  EXPECT_EQ(df.stages[0].instructions[0].keyword, Keyword::Run);
  EXPECT_EQ(df.stages[0].instructions[0].line, 4);
  EXPECT_EQ(df.find_stage("BUILD"), &df.stages[0]);
  EXPECT_EQ(df.find_stage("1"), &df.stages[1]);
  EXPECT_EQ(df.find_stage("2"), nullptr);
  EXPECT_EQ(df.stages[1].instructions[0].flag("from")->value, "build");
}

TEST(Dockerfile, UnknownInstructionNamesLineAndSuggests) {
  EXPECT_EQ(parse_err("FROM a\nRUN x\nFORM b\n"),
            "Dockerfile parse error line 3: unknown instruction: FORM (did you mean FROM?)");
  EXPECT_EQ(parse_err("FROM a\nBLAH x\n"),
            "Dockerfile parse error line 2: unknown instruction: BLAH");
}

TEST(Dockerfile, FromArity) {
  EXPECT_EQ(parse_err("FROM a b\n"),
            "Dockerfile parse error line 1: FROM requires either one or three arguments");
  EXPECT_EQ(parse_err("FROM a IS b\n"),
            "Dockerfile parse error line 1: FROM requires either one or three arguments");
  EXPECT_NE(parse_err("FROM a AS 1x\n").find("invalid name for build stage"), std::string::npos);
  EXPECT_NE(parse_err("FROM a AS x\nFROM b AS X\n").find("line 2: duplicate stage name \"x\""),
            std::string::npos);
}

TEST(Dockerfile, InstructionBeforeFromAndEmptyFile) {
  EXPECT_NE(parse_err("RUN x\nFROM a\n").find("line 1: no build stage in current context"),
            std::string::npos);
  EXPECT_NE(parse_err("# only a comment\n\n").find("file with no instructions"), std::string::npos);
}

TEST(Dockerfile, ContinuationsCommentsAndEmptyLines) {
  auto df = parse_ok(
      "FROM a\n"
      "RUN apt-get update \\\n"
      "# a comment inside\n"
      "\n"
      "   && apt-get install -y x \\  \n"
      "  && true\n"
      "CMD [\"x\"]\n");
  const auto& run = df.stages[0].instructions[0];
  EXPECT_EQ(run.args,
            std::vector<std::string>{"apt-get update    && apt-get install -y x   && true"});
  EXPECT_EQ(run.line, 2);
  EXPECT_EQ(df.stages[0].instructions[1].line, 7);
}

TEST(Dockerfile, EscapeDirectiveBacktick) {
  auto df = parse_ok(
      "# escape=`\n"
      "# syntax=docker/dockerfile:1\n"
      "FROM mcr.microsoft.com/windows/servercore\n"
      "COPY testfile.txt c:\\ `\n"
      "   extra\n"
      "RUN dir c:\\\n");
  EXPECT_EQ(df.escape, '`');
  EXPECT_EQ(df.stages[0].instructions[0].args,
            (std::vector<std::string>{"testfile.txt", "c:\\", "extra"}));
  EXPECT_EQ(df.stages[0].instructions[1].args, std::vector<std::string>{"dir c:\\"});
}

TEST(Dockerfile, DirectivesOnlyAtTheTop) {
  // After an instruction, `# escape=` is a plain comment.
  auto df = parse_ok("FROM a\n# escape=`\nRUN x \\\n y\n");
  EXPECT_EQ(df.escape, '\\');
  EXPECT_EQ(df.stages[0].instructions[0].args, std::vector<std::string>{"x  y"});
  EXPECT_NE(parse_err("# escape=x\nFROM a\n").find("invalid escape token 'x'"), std::string::npos);
  EXPECT_NE(parse_err("# escape=`\n# escape=\\\nFROM a\n").find("only one escape"),
            std::string::npos);
}

TEST(Dockerfile, ExecAndShellForms) {
  auto df = parse_ok(
      "FROM a\n"
      "RUN [\"echo\", \"hi there\"]\n"
      "CMD echo \"$HOME\"\n"
      "ENTRYPOINT [\"/bin/sh\", \"-c\"]\n"
      "CMD [not json\n"
      "CMD []\n");
  const auto& in = df.stages[0].instructions;
  EXPECT_TRUE(in[0].json_form);
  EXPECT_EQ(in[0].args, (std::vector<std::string>{"echo", "hi there"}));
  EXPECT_FALSE(in[1].json_form);
  EXPECT_EQ(in[1].args, std::vector<std::string>{"echo \"$HOME\""});
  EXPECT_TRUE(in[2].json_form);
  EXPECT_FALSE(in[3].json_form);  // invalid JSON falls back to the shell form, as Docker does
  EXPECT_TRUE(in[4].json_form);
  EXPECT_TRUE(in[4].args.empty());
  EXPECT_NE(parse_err("FROM a\nRUN\n").find("line 2: RUN requires at least one argument"),
            std::string::npos);
}

TEST(Dockerfile, CopyAndAdd) {
  auto df = parse_ok(
      "FROM a\n"
      "COPY --chown=1000:1000 --link a b c /dst/\n"
      "ADD [\"my file\", \"/d st/\"]\n");
  const auto& copy = df.stages[0].instructions[0];
  EXPECT_EQ(copy.args, (std::vector<std::string>{"a", "b", "c", "/dst/"}));
  EXPECT_EQ(copy.flag("chown")->value, "1000:1000");
  EXPECT_FALSE(copy.flag("link")->has_value);
  EXPECT_EQ(df.stages[0].instructions[1].args, (std::vector<std::string>{"my file", "/d st/"}));
  EXPECT_EQ(parse_err("FROM a\nCOPY onlyone\n"),
            "Dockerfile parse error line 2: COPY requires at least two arguments, but only one "
            "was provided. Destination could not be determined.");
  EXPECT_EQ(parse_err("FROM a\nCOPY --chmown=1 a b\n"),
            "Dockerfile parse error line 2: unknown flag: chmown (on COPY)");
  EXPECT_NE(parse_err("FROM a\nCOPY --from a b\n").find("missing a value on flag: --from"),
            std::string::npos);
  EXPECT_NE(parse_err("FROM a\nADD --from=x a b\n").find("unknown flag: from"), std::string::npos);
  EXPECT_NE(parse_err("FROM a\nCOPY --from=x --from=y a b\n").find("duplicate flag"),
            std::string::npos);
}

TEST(Dockerfile, HeredocsAreRejectedClearly) {
  std::string e = parse_err("FROM a\nRUN <<EOF\necho hi\nEOF\n");
  EXPECT_NE(e.find("line 2: heredocs (<<EOF) are not supported in RUN"), std::string::npos) << e;
  EXPECT_NE(parse_err("FROM a\nCOPY <<-\"EOT\" /x\n").find("heredocs"), std::string::npos);
  // Not heredocs: a shift inside a word, or << with no name.
  parse_ok("FROM a\nRUN echo $((1<<3)) && cat << \n");
}

TEST(Dockerfile, EnvBothForms) {
  auto df = parse_ok(
      "FROM a\n"
      "ENV A=1 B=\"two words\" C=three\\ words\n"
      "ENV LEGACY the rest of the line\n");
  const auto& env = df.stages[0].instructions[0].pairs;
  ASSERT_EQ(env.size(), 3u);
  EXPECT_EQ(env[1].key, "B");
  EXPECT_EQ(env[1].value, "\"two words\"");  // quotes go at substitution time
  EXPECT_EQ(env[2].value, "three\\ words");
  const auto& legacy = df.stages[0].instructions[1].pairs;
  ASSERT_EQ(legacy.size(), 1u);
  EXPECT_EQ(legacy[0].key, "LEGACY");
  EXPECT_EQ(legacy[0].value, "the rest of the line");
  EXPECT_EQ(parse_err("FROM a\nENV =x\n"),
            "Dockerfile parse error line 2: ENV names can not be blank");
  EXPECT_EQ(parse_err("FROM a\nENV ONLY\n"),
            "Dockerfile parse error line 2: ENV must have two arguments");
  EXPECT_NE(parse_err("FROM a\nENV A=1 B\n").find("can't find = in \"B\""), std::string::npos);
}

TEST(Dockerfile, ArgLabelExposeVolume) {
  auto df = parse_ok(
      "FROM a\n"
      "ARG V=1 W\n"
      "LABEL \"com.example.vendor\"=\"ACME\" version=1.0\n"
      "EXPOSE 80 80/tcp 8000-8002/udp\n"
      "VOLUME [\"/data\", \"/logs\"]\n"
      "VOLUME /a /b\n");
  const auto& in = df.stages[0].instructions;
  EXPECT_TRUE(in[0].pairs[0].has_value);
  EXPECT_FALSE(in[0].pairs[1].has_value);
  EXPECT_EQ(in[1].pairs[0].key, "\"com.example.vendor\"");
  EXPECT_EQ(in[2].args, (std::vector<std::string>{"80", "80/tcp", "8000-8002/udp"}));
  EXPECT_EQ(in[3].args, (std::vector<std::string>{"/data", "/logs"}));
  EXPECT_EQ(in[4].args, (std::vector<std::string>{"/a", "/b"}));
  EXPECT_NE(parse_err("FROM a\nVOLUME [\"\"]\n").find("can not be an empty string"),
            std::string::npos);
  EXPECT_NE(parse_err("FROM a\nUSER\n").find("USER requires exactly one argument"),
            std::string::npos);
}

TEST(Dockerfile, Healthcheck) {
  auto df = parse_ok(
      "FROM a\n"
      "HEALTHCHECK --interval=5m --timeout=3s --start-period=1m30s --retries=3 \\\n"
      "  CMD curl -f http://localhost/ || exit 1\n"
      "HEALTHCHECK cmd [\"/bin/check\", \"-q\"]\n"
      "HEALTHCHECK NONE\n");
  const auto& hc = *df.stages[0].instructions[0].healthcheck;
  EXPECT_EQ(hc.test,
            (std::vector<std::string>{"CMD-SHELL", "curl -f http://localhost/ || exit 1"}));
  EXPECT_EQ(hc.interval_ns, 300'000'000'000);
  EXPECT_EQ(hc.timeout_ns, 3'000'000'000);
  EXPECT_EQ(hc.start_period_ns, 90'000'000'000);
  EXPECT_EQ(hc.retries, 3);
  EXPECT_EQ(df.stages[0].instructions[1].healthcheck->test,
            (std::vector<std::string>{"CMD", "/bin/check", "-q"}));
  EXPECT_EQ(df.stages[0].instructions[2].healthcheck->test, std::vector<std::string>{"NONE"});
  EXPECT_NE(parse_err("FROM a\nHEALTHCHECK NONE x\n").find("HEALTHCHECK NONE takes no arguments"),
            std::string::npos);
  EXPECT_NE(parse_err("FROM a\nHEALTHCHECK RUN x\n")
                .find("Unknown type \"RUN\" in HEALTHCHECK (try CMD)"),
            std::string::npos);
  EXPECT_NE(parse_err("FROM a\nHEALTHCHECK CMD\n").find("Missing command after HEALTHCHECK CMD"),
            std::string::npos);
  EXPECT_NE(parse_err("FROM a\nHEALTHCHECK --interval=1us CMD x\n").find("cannot be less than 1ms"),
            std::string::npos);
  EXPECT_NE(parse_err("FROM a\nHEALTHCHECK --retries=-1 CMD x\n").find("cannot be negative"),
            std::string::npos);
  EXPECT_NE(parse_err("FROM a\nHEALTHCHECK --timeout=3x CMD x\n").find("invalid duration \"3x\""),
            std::string::npos);
}

TEST(Dockerfile, ShellStopSignalOnbuild) {
  auto df = parse_ok(
      "FROM a\n"
      "SHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]\n"
      "STOPSIGNAL SIGKILL\n"
      "ONBUILD COPY . /src\n");
  const auto& in = df.stages[0].instructions;
  EXPECT_EQ(in[0].args.size(), 4u);
  EXPECT_EQ(in[1].args, std::vector<std::string>{"SIGKILL"});
  ASSERT_EQ(in[2].trigger.size(), 1u);
  EXPECT_EQ(in[2].trigger[0].keyword, Keyword::Copy);
  EXPECT_EQ(in[2].rest, "COPY . /src");
  EXPECT_NE(parse_err("FROM a\nSHELL /bin/sh -c\n")
                .find("SHELL requires the arguments to be in JSON form"),
            std::string::npos);
  EXPECT_NE(parse_err("FROM a\nONBUILD ONBUILD RUN x\n").find("Chaining ONBUILD"),
            std::string::npos);
  EXPECT_NE(parse_err("FROM a\nONBUILD FROM b\n").find("FROM isn't allowed as an ONBUILD trigger"),
            std::string::npos);
}

TEST(Dockerfile, SplitWordsKeepsQuotes) {
  using detail::split_words;
  EXPECT_EQ(split_words("a=\"b c\" d='e f' g\\ h", '\\'),
            (std::vector<std::string>{"a=\"b c\"", "d='e f'", "g\\ h"}));
  EXPECT_EQ(split_words("  \"\"  x ", '\\'), (std::vector<std::string>{"\"\"", "x"}));
}

TEST(GoDuration, ParseAndFormat) {
  EXPECT_EQ(*parse_go_duration("1h30m"), 5'400'000'000'000);
  EXPECT_EQ(*parse_go_duration("1.5s"), 1'500'000'000);
  EXPECT_EQ(*parse_go_duration("500ms"), 500'000'000);
  EXPECT_EQ(*parse_go_duration("0"), 0);
  EXPECT_FALSE(parse_go_duration("5").has_value());
  EXPECT_FALSE(parse_go_duration("").has_value());
  EXPECT_FALSE(parse_go_duration("1.2.3s").has_value());
  EXPECT_EQ(format_go_duration(0), "0s");
  EXPECT_EQ(format_go_duration(30'000'000'000), "30s");
  EXPECT_EQ(format_go_duration(90'000'000'000), "1m30s");
  EXPECT_EQ(format_go_duration(3'600'000'000'000), "1h0m0s");
  EXPECT_EQ(format_go_duration(1'500'000'000), "1.5s");
  EXPECT_EQ(format_go_duration(2'000'000), "2ms");
}

}  // namespace
}  // namespace silo::image
