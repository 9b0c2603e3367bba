// --change for import and commit: each allowed instruction, Docker's refusals.

#include "image/image_changes.h"

#include <gtest/gtest.h>

namespace silo::image {
namespace {

Json changed(Json rc, const std::vector<std::string>& changes) {
  auto s = apply_changes(rc, changes);
  EXPECT_TRUE(s) << s.error().message;
  return rc;
}

std::string refusal(const std::vector<std::string>& changes) {
  Json rc = Json::object();
  auto s = apply_changes(rc, changes);
  EXPECT_FALSE(s);
  if (s) return "";
  EXPECT_EQ(s.error().code, Code::Invalid);
  EXPECT_EQ(rc, Json::object()) << "a refused change must leave the config as it was";
  return s.error().message;
}

TEST(ImageChanges, CmdAndEntrypointInBothForms) {
  auto rc = changed(Json::object(), {R"(CMD ["/bin/app", "--flag"])"});
  EXPECT_EQ(rc["Cmd"], Json({"/bin/app", "--flag"}));
  rc = changed(Json::object(), {"CMD echo hi there"});
  EXPECT_EQ(rc["Cmd"], Json({"/bin/sh", "-c", "echo hi there"}));
  rc = changed(Json{{"Shell", {"/bin/bash", "-xc"}}}, {"CMD ls"});
  EXPECT_EQ(rc["Cmd"], Json({"/bin/bash", "-xc", "ls"}));
  // ENTRYPOINT resets an inherited Cmd, but not one set by an earlier change.
  rc = changed(Json{{"Cmd", {"old"}}}, {R"(ENTRYPOINT ["/init"])"});
  EXPECT_EQ(rc["Entrypoint"], Json({"/init"}));
  EXPECT_TRUE(rc["Cmd"].is_null());
  rc = changed(Json{{"Cmd", {"old"}}}, {"CMD new", R"(ENTRYPOINT ["/init"])"});
  EXPECT_EQ(rc["Cmd"], Json({"/bin/sh", "-c", "new"}));
}

TEST(ImageChanges, EnvLabelAndTheirQuoting) {
  auto rc = changed(Json{{"Env", {"PATH=/bin", "A=old"}}},
                    {R"(ENV A=new B="two words" C=x\ y)", "ENV LEGACY the rest is the value"});
  EXPECT_EQ(rc["Env"],
            Json({"PATH=/bin", "A=new", "B=two words", "C=x y", "LEGACY=the rest is the value"}));
  rc = changed(Json::object(), {R"(LABEL org.example.a="1 2" b='$x')"});
  EXPECT_EQ(rc["Labels"], Json({{"org.example.a", "1 2"}, {"b", "$x"}}));
}

TEST(ImageChanges, ExposeVolumeWorkdirUserStopsignalOnbuild) {
  auto rc =
      changed(Json::object(), {"EXPOSE 80 53/udp 8000-8001", R"(VOLUME ["/data", "/logs"])",
                               "VOLUME /cache", "WORKDIR /srv", "WORKDIR app/../www",
                               "USER nobody:nogroup", "STOPSIGNAL SIGQUIT", "ONBUILD RUN make"});
  EXPECT_EQ(rc["ExposedPorts"], Json({{"80/tcp", Json::object()},
                                      {"53/udp", Json::object()},
                                      {"8000/tcp", Json::object()},
                                      {"8001/tcp", Json::object()}}));
  EXPECT_EQ(
      rc["Volumes"],
      Json({{"/data", Json::object()}, {"/logs", Json::object()}, {"/cache", Json::object()}}));
  EXPECT_EQ(rc["WorkingDir"], "/srv/www");
  EXPECT_EQ(rc["User"], "nobody:nogroup");
  EXPECT_EQ(rc["StopSignal"], "SIGQUIT");
  EXPECT_EQ(rc["OnBuild"], Json({"RUN make"}));
  EXPECT_TRUE(apply_changes(rc, {"STOPSIGNAL 9", "STOPSIGNAL term"}));
}

TEST(ImageChanges, Healthcheck) {
  auto rc = changed(Json::object(),
                    {"HEALTHCHECK --interval=1m30s --timeout=500ms --retries=3 CMD curl -f x"});
  EXPECT_EQ(rc["Healthcheck"]["Test"], Json({"CMD-SHELL", "curl -f x"}));
  EXPECT_EQ(rc["Healthcheck"]["Interval"], 90'000'000'000LL);
  EXPECT_EQ(rc["Healthcheck"]["Timeout"], 500'000'000LL);
  EXPECT_EQ(rc["Healthcheck"]["Retries"], 3);
  rc = changed(rc, {R"(HEALTHCHECK CMD ["/ok"])"});
  EXPECT_EQ(rc["Healthcheck"]["Test"], Json({"CMD", "/ok"}));
  rc = changed(rc, {"HEALTHCHECK NONE"});
  EXPECT_EQ(rc["Healthcheck"]["Test"], Json({"NONE"}));
}

TEST(ImageChanges, MultiLineChangesWithCommentsAndContinuations) {
  auto rc = changed(Json::object(), {"# a comment\nENV A=1 \\\n    B=2\n\nUSER u"});
  EXPECT_EQ(rc["Env"], Json({"A=1", "B=2"}));
  EXPECT_EQ(rc["User"], "u");
}

TEST(ImageChanges, RefusesWhatDockerRefuses) {
  EXPECT_EQ(refusal({"RUN make"}), "run is not a valid change command");
  EXPECT_EQ(refusal({"ENV A=1", "FROM busybox"}), "from is not a valid change command");
  EXPECT_EQ(refusal({"COPY a b"}), "copy is not a valid change command");
  EXPECT_NE(refusal({"EXPOSE abc"}).find("EXPOSE: invalid containerPort: abc"), std::string::npos);
  EXPECT_NE(refusal({"EXPOSE 80/xyz"}).find("invalid proto: xyz"), std::string::npos);
  EXPECT_NE(refusal({"STOPSIGNAL SIGNOPE"}).find("Unknown signal: SIGNOPE"), std::string::npos);
  EXPECT_NE(refusal({"ENV"}).find("ENV requires at least one argument"), std::string::npos);
  EXPECT_NE(refusal({"ENV A=1 =2"}).find("can't find = in \"=2\""), std::string::npos);
  EXPECT_NE(refusal({"ONBUILD ONBUILD RUN x"}).find("Chaining ONBUILD"), std::string::npos);
  EXPECT_NE(refusal({"HEALTHCHECK --interval=5parsecs CMD x"}).find("unknown unit"),
            std::string::npos);
  EXPECT_NE(refusal({"LABEL a=\"unterminated"}).find("matching \""), std::string::npos);
  // A valid change before a refused one is not applied either.
  EXPECT_NE(refusal({"USER u", "EXPOSE nope"}).find("invalid containerPort"), std::string::npos);
}

}  // namespace
}  // namespace silo::image
