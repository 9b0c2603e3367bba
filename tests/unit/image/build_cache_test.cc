// The classic builder's step model: config changes, recorded commands as `docker history`
// shows them for images built by Docker's classic builder, and cache keys.

#include "image/build_cache.h"

#include <gtest/gtest.h>

namespace silo::image {
namespace {

Instruction ins(std::string_view text) {
  auto i = parse_instruction(text, 1);
  EXPECT_TRUE(i.has_value()) << text << ": " << (i ? "" : i.error().message);
  return i ? *i : Instruction{};
}

ImageConfig apply(const ImageConfig& c, std::string_view text, const BuildArgs& a = {}) {
  auto r = apply_step(c, ins(text), a);
  EXPECT_TRUE(r.has_value()) << text << ": " << (r ? "" : r.error().message);
  return r ? *r : c;
}

std::string recorded(const ImageConfig& before, std::string_view text, const BuildArgs& a = {},
                     std::string_view sum = {}) {
  auto r = step_record(before, ins(text), a, sum);
  EXPECT_TRUE(r.has_value()) << text << ": " << (r ? "" : r.error().message);
  return r ? r->created_by : "";
}

TEST(ApplyStep, MetadataInstructions) {
  ImageConfig c;
  c.config.env = {"PATH=/usr/bin"};
  c = apply(c, "ENV A=1 B=\"two words\"");
  c = apply(c, "ENV PATH=/opt/bin:$PATH");
  EXPECT_EQ(c.config.env,
            (std::vector<std::string>{"PATH=/opt/bin:/usr/bin", "A=1", "B=two words"}));
  c = apply(c, "LABEL version=$A \"com.example\"=x");
  EXPECT_EQ(c.config.labels.at("version"), "1");
  EXPECT_EQ(c.config.labels.at("com.example"), "x");
  c = apply(c, "WORKDIR /a");
  c = apply(c, "WORKDIR b/../c");
  EXPECT_EQ(c.config.working_dir, "/a/c");
  c = apply(c, "EXPOSE 80 53/udp 8000-8002");
  EXPECT_EQ(c.config.exposed_ports,
            (std::set<std::string>{"80/tcp", "53/udp", "8000/tcp", "8001/tcp", "8002/tcp"}));
  c = apply(c, "VOLUME [\"/data\"]");
  c = apply(c, "USER app:app");
  c = apply(c, "STOPSIGNAL SIGQUIT");
  c = apply(c, "SHELL [\"/bin/bash\", \"-c\"]");
  c = apply(c, "CMD echo hi");
  EXPECT_EQ(c.config.cmd, (std::vector<std::string>{"/bin/bash", "-c", "echo hi"}));
  c = apply(c, "ONBUILD RUN make");
  c = apply(c, "HEALTHCHECK --retries=2 CMD true");
  c = apply(c, "MAINTAINER me");
  EXPECT_EQ(c.config.volumes, std::set<std::string>{"/data"});
  EXPECT_EQ(c.config.user, "app:app");
  EXPECT_EQ(c.config.stop_signal, "SIGQUIT");
  EXPECT_EQ(c.config.on_build, std::vector<std::string>{"RUN make"});
  EXPECT_EQ(c.config.healthcheck->retries, 2);
  EXPECT_EQ(c.author, "me");
  ImageConfig same = apply(c, "RUN make");
  EXPECT_EQ(same.config.env, c.config.env);
}

TEST(ApplyStep, EntrypointClearsInheritedCmd) {
  ImageConfig base;
  base.config.cmd = {"nginx"};
  auto c = *apply_step(base, ins("ENTRYPOINT [\"/init\"]"), {});
  EXPECT_TRUE(c.config.cmd.empty());
  auto kept = *apply_step(base, ins("ENTRYPOINT [\"/init\"]"), {}, true);
  EXPECT_EQ(kept.config.cmd, std::vector<std::string>{"nginx"});
}

TEST(ApplyStep, ArgsAndErrors) {
  auto df = *parse_dockerfile("FROM a\nARG PORT=8080\n");
  BuildArgs args;
  ASSERT_TRUE(args.declare(df.stages[0].instructions[0], {}).has_value());
  EXPECT_EQ(apply({}, "EXPOSE $PORT", args).config.exposed_ports,
            std::set<std::string>{"8080/tcp"});
  EXPECT_EQ(apply_step({}, ins("EXPOSE 80a"), {}).error().message,
            "Dockerfile line 1: EXPOSE 80a: invalid containerPort: 80a");
  EXPECT_NE(
      apply_step({}, ins("EXPOSE 1.2.3.4:80:80"), {}).error().message.find("container ports only"),
      std::string::npos);
  EXPECT_NE(apply_step({}, ins("EXPOSE 80/xtp"), {}).error().message.find("invalid proto: xtp"),
            std::string::npos);
  EXPECT_NE(apply_step({}, ins("STOPSIGNAL SIGBOGUS"), {}).error().message.find("Invalid signal"),
            std::string::npos);
  EXPECT_TRUE(apply_step({}, ins("STOPSIGNAL 9"), {}).has_value());
}

TEST(StepRecord, AsDockerHistoryShowsIt) {
  ImageConfig c;
  EXPECT_EQ(recorded(c, "CMD [\"nginx\", \"-g\", \"daemon off;\"]"),
            "/bin/sh -c #(nop)  CMD [\"nginx\" \"-g\" \"daemon off;\"]");
  EXPECT_EQ(recorded(c, "CMD echo hi"), "/bin/sh -c #(nop)  CMD [\"/bin/sh\" \"-c\" \"echo hi\"]");
  EXPECT_EQ(recorded(c, "EXPOSE 80"), "/bin/sh -c #(nop)  EXPOSE 80");
  EXPECT_EQ(recorded(c, "ENV A=1 B=2"), "/bin/sh -c #(nop)  ENV A=1 B=2");
  EXPECT_EQ(recorded(c, "LABEL maintainer=\"NGINX Docker Maintainers\""),
            "/bin/sh -c #(nop)  LABEL maintainer=NGINX Docker Maintainers");
  EXPECT_EQ(recorded(c, "STOPSIGNAL SIGQUIT"), "/bin/sh -c #(nop)  STOPSIGNAL SIGQUIT");
  EXPECT_EQ(recorded(c, "VOLUME /data"), "/bin/sh -c #(nop)  VOLUME [\"/data\"]");
  EXPECT_EQ(recorded(c, "WORKDIR /usr/src/app"), "/bin/sh -c #(nop) WORKDIR /usr/src/app");
  EXPECT_EQ(recorded(c, "RUN apt-get update"), "/bin/sh -c apt-get update");
  EXPECT_EQ(recorded(c, "COPY file.txt /dst", {}, "file:abc"),
            "/bin/sh -c #(nop) COPY file:abc in /dst ");
  EXPECT_EQ(recorded(c, "HEALTHCHECK --interval=30s --timeout=3s --retries=3 CMD curl -f x"),
            "/bin/sh -c #(nop)  HEALTHCHECK &{[\"CMD-SHELL\" \"curl -f x\"] \"30s\" \"3s\" \"0s\" "
            "\"0s\" '\\x03'}");
  EXPECT_EQ(recorded(c, "SHELL [\"/bin/bash\", \"-c\"]"),
            "/bin/sh -c #(nop)  SHELL [/bin/bash -c]");
  c.config.shell = {"/bin/bash", "-c"};
  EXPECT_EQ(recorded(c, "USER app"), "/bin/bash -c #(nop)  USER app");
  EXPECT_FALSE(step_record(c, ins("USER app"), {})->cmd.empty());
  EXPECT_TRUE(step_record(c, ins("USER app"), {})->empty_layer);
  EXPECT_FALSE(step_record(c, ins("RUN x"), {})->empty_layer);
}

TEST(StepRecord, RunWithBuildArgs) {
  auto df = *parse_dockerfile("FROM a\nARG B=2 A=1 NOVALUE\n");
  BuildArgs args(std::map<std::string, std::string>{{"HTTP_PROXY", "http://p"}});
  ASSERT_TRUE(args.declare(df.stages[0].instructions[0], {}).has_value());
  EXPECT_EQ(recorded({}, "RUN make", args), "|2 A=1 B=2 /bin/sh -c make");
  EXPECT_EQ(recorded({}, "RUN [\"make\", \"all\"]", args), "|2 A=1 B=2 make all");
  EXPECT_EQ(recorded({}, "ARG B=2 A=1 NOVALUE", args), "/bin/sh -c #(nop)  ARG B=2 A=1 NOVALUE");
}

TEST(CacheKey, ChangesWithEveryInput) {
  ImageConfig c;
  auto copy = ins("COPY --chown=1:1 a /a");
  auto rec = *step_record(c, copy, {}, "file:1");
  auto key = cache_key("sha256:p", rec, c, copy, "file:1");
  EXPECT_TRUE(key.starts_with("sha256:"));
  EXPECT_EQ(key, cache_key("sha256:p", rec, c, copy, "file:1"));
  EXPECT_NE(key, cache_key("sha256:q", rec, c, copy, "file:1"));
  auto rec2 = *step_record(c, copy, {}, "file:2");
  EXPECT_NE(key, cache_key("sha256:p", rec2, c, copy, "file:2"));
  auto chown = ins("COPY --chown=2:2 a /a");
  EXPECT_NE(key, cache_key("sha256:p", *step_record(c, chown, {}, "file:1"), c, chown, "file:1"));
  ImageConfig env = c;
  env.config.env = {"A=1"};
  EXPECT_NE(key, cache_key("sha256:p", rec, env, copy, "file:1"));
}

TEST(GoQuote, LikeFmtQ) {
  EXPECT_EQ(go_quote("a\"b\\c\n\x01"), "\"a\\\"b\\\\c\\n\\x01\"");
  EXPECT_EQ(go_quote(std::vector<std::string>{}), "[]");
  auto h = history_entry(StepRecord{{"x"}, "x", true}, "2024-01-01T00:00:00Z");
  EXPECT_TRUE(h.empty_layer);
  EXPECT_EQ(h.created_by, "x");
}

}  // namespace
}  // namespace silo::image
