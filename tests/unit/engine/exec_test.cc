// The exec service's pure parts and its errors, with a fake container host (no root,
// no shim): ExecConfig parsing, the OCI process, ExecInspect, create's conflicts.
#include "engine/exec.h"

#include <gtest/gtest.h>

#include "common/sys.h"
#include "engine/events.h"
#include "engine/store.h"
#include "temp_dir.h"

namespace silo::engine {
namespace {

TEST(ExecConfig, ParsesDockerExecConfig) {
  auto x = parse_exec_config(Json::parse(
      R"({"Cmd":["sh","-c","id"],"Env":["A=1"],"User":"1:2","WorkingDir":"/tmp","Tty":true,)"
      R"("AttachStdin":true,"AttachStdout":true,"AttachStderr":false,"DetachKeys":"ctrl-x"})"));
  ASSERT_TRUE(x) << x.error().message;
  EXPECT_EQ(x->cmd, (std::vector<std::string>{"sh", "-c", "id"}));
  EXPECT_EQ(x->env, std::vector<std::string>{"A=1"});
  EXPECT_TRUE(x->tty && x->attach_stdin && x->attach_stdout && !x->attach_stderr);
  EXPECT_EQ(x->detach_keys, "ctrl-x");
}

TEST(ExecConfig, EmptyCmdIsDockersError) {
  auto x = parse_exec_config(Json::parse(R"({"Cmd":[]})"));
  ASSERT_FALSE(x);
  EXPECT_EQ(x.error().code, Code::Invalid);
  EXPECT_EQ(x.error().message, "No exec command specified");
}

TEST(ExecProcess, BuildsFromTheContainersProcess) {
  testing::TempDir root;
  ASSERT_TRUE(sys::mkdir_p(root.file("etc")));
  ASSERT_TRUE(sys::write_file_atomic(root.file("etc/passwd"),
                                     "root:x:0:0::/root:/bin/sh\n"
                                     "app:x:1000:1001::/:/bin/sh\n",
                                     0644));
  ASSERT_TRUE(sys::write_file_atomic(root.file("etc/group"), "root:x:0:\nstaff:x:50:\n", 0644));
  Json base =
      Json::parse(R"({"args":["sleep","100"],"env":["PATH=/bin"],"cwd":"/","terminal":false,)"
                  R"("user":{"uid":0,"gid":0},"consoleSize":{"height":1,"width":1}})");
  ExecInstance x;
  x.cmd = {"echo", "hi"};
  x.env = {"X=y"};
  x.user = "app:staff";
  x.tty = true;
  x.privileged = true;
  auto p = exec_process_json(x, base, root.path());
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ((*p)["args"], Json::parse(R"(["echo","hi"])"));
  EXPECT_EQ((*p)["env"], Json::parse(R"(["PATH=/bin","X=y"])"));
  EXPECT_EQ((*p)["user"], Json::parse(R"({"uid":1000,"gid":50})"));
  EXPECT_TRUE((*p)["terminal"].get<bool>());
  EXPECT_FALSE(p->contains("consoleSize"));
  EXPECT_GT((*p)["capabilities"]["bounding"].size(), 30u);

  x.user = "nobody";
  auto bad = exec_process_json(x, base, root.path());
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("unable to find user nobody"), std::string::npos);
}

TEST(ExecInspect, HasDockersShape) {
  ExecInstance x;
  x.id = "abc";
  x.container_id = "cid";
  x.cmd = {"sh", "-c", "true"};
  Json j = exec_inspect_json(x);
  EXPECT_EQ(j["ProcessConfig"]["entrypoint"], "sh");
  EXPECT_EQ(j["ProcessConfig"]["arguments"], Json::parse(R"(["-c","true"])"));
  EXPECT_TRUE(j["ExitCode"].is_null());
  EXPECT_EQ(j["Running"], false);
  EXPECT_EQ(j["ContainerID"], "cid");
  for (const char* k : {"OpenStdin", "OpenStdout", "OpenStderr", "CanRemove", "Pid", "DetachKeys"})
    EXPECT_TRUE(j.contains(k)) << k;
}

ExecHost fake_host(const std::string& status) {
  ExecHost h;
  h.get = [status](std::string_view ref) -> Result<ContainerRecord> {
    if (ref != "web") return fail(Code::NotFound, "No such container: " + std::string(ref));
    ContainerRecord c;
    c.id = std::string(64, 'a');
    c.name = "web";
    c.state.status = status;
    return c;
  };
  h.paths = [](std::string_view) { return ContainerPaths{}; };
  h.runtime_root = "/nonexistent/runtime";
  return h;
}

TEST(ExecService, CreateChecksTheContainer) {
  Json body = Json::parse(R"({"Cmd":["true"]})");
  ExecService running(fake_host("running"));
  auto id = running.create("web", body);
  ASSERT_TRUE(id) << id.error().message;
  EXPECT_EQ(id->size(), 64u);
  auto j = running.inspect(*id);
  ASSERT_TRUE(j);
  EXPECT_EQ((*j)["ID"], *id);
  EXPECT_TRUE(running.inspect(id->substr(0, 12)));  // a unique prefix works

  auto missing = running.create("db", body);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Code::NotFound);
  auto nx = running.inspect("nope");
  ASSERT_FALSE(nx);
  EXPECT_EQ(nx.error().message, "No such exec instance: nope");

  ExecService stopped(fake_host("exited"));
  auto e = stopped.create("web", body);
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().code, Code::Conflict);
  EXPECT_EQ(e.error().message, "Container " + std::string(64, 'a') + " is not running");
  ExecService paused(fake_host("paused"));
  auto p = paused.create("web", body);
  ASSERT_FALSE(p);
  EXPECT_NE(p.error().message.find("is paused, unpause the container before exec"),
            std::string::npos);
}

// The watcher forgets a container's execs when the bus reports it destroyed.
TEST(ExecService, ForgetsExecsOfADestroyedContainer) {
  testing::TempDir dir;
  auto store = Store::open(dir.file("silo.db"));
  ASSERT_TRUE(store) << store.error().message;
  EventBus bus(store->get());
  ExecHost host = fake_host("running");
  host.events = &bus;
  ExecService execs(host);
  ASSERT_TRUE(execs.watch());
  auto id = execs.create("web", Json::parse(R"({"Cmd":["true"]})"));
  ASSERT_TRUE(id) << id.error().message;
  bus.container("destroy", std::string(64, 'b'), Json::object());  // another container
  bus.container("destroy", std::string(64, 'a'), Json::object());
  bool gone = false;
  for (int i = 0; i < 100 && !gone; ++i) {
    gone = !execs.inspect(*id);
    if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(gone);
}

}  // namespace
}  // namespace silo::engine
