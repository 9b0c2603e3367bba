// The Go-template subset, docker's humanised durations and sizes, and ps tables.
#include <gtest/gtest.h>

#include "cli/format.h"
#include "cli/gotemplate.h"

namespace silo::cli {
namespace {

std::string T(const std::string& t, const Json& d) {
  auto r = render_template(t, d);
  EXPECT_TRUE(r) << (r ? "" : r.error().message);
  return r ? *r : "";
}

const Json kInspect = Json::parse(R"({
  "Id": "abc123", "State": {"Status": "running", "Pid": 42, "Running": true},
  "Config": {"Image": "busybox", "Labels": {"k": "v", "a b": "c"}, "Env": ["A=1", "B=2"]},
  "Mounts": [{"Type": "volume", "Name": "data", "Destination": "/data"},
             {"Type": "bind", "Source": "/h", "Destination": "/c"}],
  "HostConfig": {"Memory": 0, "Links": null}
})");

TEST(GoTemplate, Fields) {
  EXPECT_EQ(T("{{.State.Status}}", kInspect), "running");
  EXPECT_EQ(T("{{.Config.Image}} {{.Id}}", kInspect), "busybox abc123");
  EXPECT_EQ(T("{{.State.Pid}}", kInspect), "42");
  EXPECT_EQ(T("{{.State.Running}}", kInspect), "true");
  EXPECT_EQ(T("{{.Nope}}", kInspect), "<no value>");
  EXPECT_EQ(T("{{.Config.Env}}", kInspect), "[A=1 B=2]");
  EXPECT_EQ(T("{{.Config.Labels}}", kInspect), "map[a b:c k:v]");
}

TEST(GoTemplate, JsonAndIndex) {
  EXPECT_EQ(T("{{json .Config.Labels}}", kInspect), R"({"a b":"c","k":"v"})");
  EXPECT_EQ(T(R"({{index .Config.Labels "k"}})", kInspect), "v");
  EXPECT_EQ(T(R"({{index .Config.Labels "a b"}})", kInspect), "c");
  EXPECT_EQ(T("{{index .Config.Env 1}}", kInspect), "B=2");
  EXPECT_EQ(T("{{json .Mounts}}", kInspect).substr(0, 17), R"([{"Destination":")");
  EXPECT_EQ(T("{{.Config.Labels | json}}", kInspect), R"({"a b":"c","k":"v"})");
}

TEST(GoTemplate, RangeIfElseWith) {
  EXPECT_EQ(T("{{range .Mounts}}{{.Destination}} {{end}}", kInspect), "/data /c ");
  EXPECT_EQ(T("{{range $i, $m := .Mounts}}{{$i}}={{$m.Type}};{{end}}", kInspect),
            "0=volume;1=bind;");
  EXPECT_EQ(T("{{range $k, $v := .Config.Labels}}{{$k}}:{{$v}},{{end}}", kInspect), "a b:c,k:v,");
  EXPECT_EQ(T("{{range .HostConfig.Links}}x{{else}}none{{end}}", kInspect), "none");
  EXPECT_EQ(T("{{if .State.Running}}up{{else}}down{{end}}", kInspect), "up");
  EXPECT_EQ(T("{{if .HostConfig.Memory}}lim{{else if .State.Pid}}pid{{else}}no{{end}}", kInspect),
            "pid");
  EXPECT_EQ(T("{{with .State}}{{.Status}}{{end}}", kInspect), "running");
  EXPECT_EQ(T(R"({{if eq .State.Status "running"}}yes{{end}})", kInspect), "yes");
  EXPECT_EQ(T("{{if not .HostConfig.Memory}}unlimited{{end}}", kInspect), "unlimited");
}

TEST(GoTemplate, FunctionsAndTrim) {
  EXPECT_EQ(T(R"({{join .Config.Env ","}})", kInspect), "A=1,B=2");
  EXPECT_EQ(T("{{len .Mounts}}", kInspect), "2");
  EXPECT_EQ(T("{{upper .Config.Image}}", kInspect), "BUSYBOX");
  EXPECT_EQ(T("a  {{- .Id -}}  b", kInspect), "aabc123b");
  EXPECT_EQ(T(R"({{printf "%s/%d" .Config.Image .State.Pid}})", kInspect), "busybox/42");
  EXPECT_EQ(T(R"({{.Label "k"}})", Json{{"Label", {{"k", "v"}}}}), "v");
  EXPECT_EQ(T("{{(index .Mounts 0).Name}}", kInspect), "data");
}

TEST(GoTemplate, Errors) {
  EXPECT_FALSE(Template::parse("{{.A"));
  EXPECT_FALSE(Template::parse("{{range .A}}x"));
  EXPECT_FALSE(render_template("{{nosuchfn .A}}", Json::object()));
  EXPECT_FALSE(render_template("{{range .A}}{{end}}", Json{{"A", 5}}));
}

TEST(Humanise, Durations) {
  EXPECT_EQ(human_duration(0), "Less than a second");
  EXPECT_EQ(human_duration(1), "1 second");
  EXPECT_EQ(human_duration(45), "45 seconds");
  EXPECT_EQ(human_duration(61), "About a minute");
  EXPECT_EQ(human_duration(5 * 60), "5 minutes");
  EXPECT_EQ(human_duration(3600), "About an hour");
  EXPECT_EQ(human_duration(5 * 3600), "5 hours");
  EXPECT_EQ(human_duration(3 * 86400), "3 days");
  EXPECT_EQ(human_duration(20 * 86400), "2 weeks");
  EXPECT_EQ(human_duration(90 * 86400), "3 months");
  EXPECT_EQ(human_duration(3 * 365 * 86400), "3 years");
}

TEST(Humanise, Sizes) {
  EXPECT_EQ(human_size(0), "0B");
  EXPECT_EQ(human_size(999), "999B");
  EXPECT_EQ(human_size(1200000), "1.2MB");
  EXPECT_EQ(human_size(4404019), "4.404MB");
  EXPECT_EQ(bytes_size(1536), "1.5KiB");
  EXPECT_EQ(bytes_size(512 * 1024 * 1024), "512MiB");
}

TEST(Humanise, EllipsisAndQuote) {
  EXPECT_EQ(ellipsis("sleep 1000", 20), "sleep 1000");
  EXPECT_EQ(ellipsis("sh -c 'while true; do sleep 1; done'", 20),
            "sh -c 'while true; \xE2\x80\xA6");
  EXPECT_EQ(go_quote("sh -c \"x\""), "\"sh -c \\\"x\\\"\"");
}

const Json kContainer = Json::parse(R"({
  "Id": "0123456789abcdef0123", "Names": ["/web"], "Image": "busybox",
  "Command": "sh -c 'while true; do sleep 1; done'", "Created": 1000, "State": "running",
  "Status": "Up 5 seconds", "Labels": {"a": "1", "b": "2"},
  "Ports": [{"IP": "0.0.0.0", "PrivatePort": 80, "PublicPort": 8080, "Type": "tcp"},
            {"PrivatePort": 443, "Type": "tcp"}],
  "Mounts": [{"Name": "data", "Driver": "local"}],
  "NetworkSettings": {"Networks": {"none": {}}}
})");

TEST(PsTable, Row) {
  Json r = ps_row(kContainer, true, 1000 + 5 * 60);
  EXPECT_EQ(r["ID"], "0123456789ab");
  EXPECT_EQ(r["Names"], "web");
  EXPECT_EQ(r["RunningFor"], "5 minutes ago");
  EXPECT_EQ(r["Command"], "\"sh -c 'while true; \xE2\x80\xA6\"");
  EXPECT_EQ(r["Ports"], "0.0.0.0:8080->80/tcp, 443/tcp");
  EXPECT_EQ(r["Labels"], "a=1,b=2");
  EXPECT_EQ(r["Mounts"], "data");
  EXPECT_EQ(r["Networks"], "none");
  Json full = ps_row(kContainer, false, 1000);
  EXPECT_EQ(full["ID"], "0123456789abcdef0123");
}

TEST(PsTable, TableAlignsColumnsAndCustomFormats) {
  std::vector<Json> rows = {ps_row(kContainer, true, 1000)};
  auto t = render_rows("table {{.ID}}\t{{.Names}}\t{{.State}}", "", rows, ps_headers());
  ASSERT_TRUE(t);
  EXPECT_EQ(*t, "CONTAINER ID   NAMES     STATE\n0123456789ab   web       running\n");
  auto plain = render_rows(R"({{.Names}} {{.Label "b"}})", "", rows, ps_headers());
  ASSERT_TRUE(plain);
  EXPECT_EQ(*plain, "web 2\n");
  auto json = render_rows("{{json .State}}", "", rows, ps_headers());
  ASSERT_TRUE(json);
  EXPECT_EQ(*json, "\"running\"\n");
}

}  // namespace
}  // namespace silo::cli
