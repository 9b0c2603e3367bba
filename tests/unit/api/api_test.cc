// Engine API transport logic without sockets: versions, routing, queries, filters,
// error mapping, multiplexed frames, the in-memory dispatch path and the request parser.

#include <gtest/gtest.h>

#include <stdexcept>

#include "api/dispatch.h"
#include "api/http.h"
#include "api/router.h"
#include "api/stream.h"
#include "api/system.h"
#include "api/version.h"

namespace silo::api {
namespace {

Handler ok_handler(std::string tag) {
  return [tag](Call& c) -> Result<Response> {
    Json params = Json::object();
    for (const auto& [k, v] : c.req.params) params[k] = v;
    return Response::json({{"tag", tag}, {"params", params}, {"version", c.req.version}});
  };
}

Request make(std::string method, std::string target, std::string body = {},
             std::string content_type = {}) {
  Request r;
  r.method = std::move(method);
  r.target = std::move(target);
  r.body = std::move(body);
  if (!content_type.empty()) r.headers.add("Content-Type", content_type);
  return r;
}

std::string message_of(const Response& r) {
  return Json::parse(r.body).at("message");
}

TEST(Version, CompareAsDockerd) {
  EXPECT_LT(compare_versions("1.9", "1.10"), 0);
  EXPECT_EQ(compare_versions("1.41", "1.41.0"), 0);
  EXPECT_GT(compare_versions("1.50", "1.41"), 0);
  EXPECT_GT(compare_versions("2", "1.99"), 0);
  EXPECT_EQ(compare_versions("", "0"), 0);
  EXPECT_LT(compare_versions("1.x", "1.1"), 0);  // unparsable component counts as 0
}

TEST(Version, SplitsPrefix) {
  auto v = split_version("/v1.41/containers/json");
  ASSERT_TRUE(v.version);
  EXPECT_EQ(*v.version, "1.41");
  EXPECT_EQ(v.path, "/containers/json");
  EXPECT_FALSE(split_version("/containers/json").version);
  EXPECT_FALSE(split_version("/volumes").version);  // "/vo..." is a route, not a version
  EXPECT_FALSE(split_version("/v1.41").version);    // nothing after the prefix
  EXPECT_FALSE(split_version("/vx1/_ping").version);
  EXPECT_EQ(split_version("/v1.2.3/_ping").version.value(), "1.2.3");
  EXPECT_EQ(split_version("/volumes/x").path, "/volumes/x");
}

TEST(Version, DockerdMessages) {
  EXPECT_TRUE(check_version("1.41"));
  EXPECT_TRUE(check_version("1.12"));
  EXPECT_TRUE(check_version("1.24"));
  auto too_new = check_version("1.50");
  ASSERT_FALSE(too_new);
  EXPECT_EQ(too_new.error().code, Code::Invalid);
  EXPECT_EQ(too_new.error().message,
            "client version 1.50 is too new. Maximum supported API version is 1.41");
  auto too_old = check_version("1.11");
  ASSERT_FALSE(too_old);
  EXPECT_EQ(too_old.error().message,
            "client version 1.11 is too old. Minimum supported API version is 1.12, please "
            "upgrade your client to a newer version");
}

TEST(Router, MatchesParamsAndLiterals) {
  Router r;
  ASSERT_TRUE(r.add("POST", "/containers/{name}/start", ok_handler("start")));
  ASSERT_TRUE(r.add("GET", "/containers/json", ok_handler("list")));
  ASSERT_TRUE(r.add("GET", "/containers/{name}/json", ok_handler("inspect")));
  auto m = r.match("POST", "/containers/web/start");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.route->pattern, "/containers/{name}/start");
  EXPECT_EQ(m.params.at("name"), "web");
  EXPECT_EQ(r.match("GET", "/containers/json").route->pattern, "/containers/json");
  EXPECT_EQ(r.match("GET", "/containers/abc/json").params.at("name"), "abc");
  EXPECT_EQ(r.match("POST", "/containers/a/b/start").route, nullptr);  // no '/' in {name}
  EXPECT_EQ(r.match("POST", "/containers//start").route, nullptr);     // nor empty
  EXPECT_EQ(r.match("POST", "/containers/web/start/").route, nullptr);
  EXPECT_EQ(r.match("GET", "/nothing").route, nullptr);
}

TEST(Router, GreedyParamForImageNames) {
  Router r;
  ASSERT_TRUE(r.add("GET", "/images/{name:.*}/json", ok_handler("inspect")));
  ASSERT_TRUE(r.add("DELETE", "/images/{name:.*}", ok_handler("rm")));
  auto m = r.match("GET", "/images/docker.io/library/alpine:3.19/json");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.params.at("name"), "docker.io/library/alpine:3.19");
  // Greedy like the regexp: the last "/json" ends the route.
  EXPECT_EQ(r.match("GET", "/images/a/json/json").params.at("name"), "a/json");
  EXPECT_EQ(r.match("GET", "/images/json").route, nullptr);
  EXPECT_EQ(r.match("DELETE", "/images/quay.io/x/y").params.at("name"), "quay.io/x/y");
}

TEST(Router, MethodMismatchAndOrder) {
  Router r;
  ASSERT_TRUE(r.add("GET", "/x/{id}", ok_handler("first")));
  ASSERT_TRUE(r.add("GET", "/x/special", ok_handler("second")));
  auto m = r.match("POST", "/x/1");
  EXPECT_EQ(m.route, nullptr);
  EXPECT_TRUE(m.path_matched);
  EXPECT_EQ(r.match("GET", "/x/special").route->pattern, "/x/{id}");  // first added wins
  EXPECT_EQ(r.match("HEAD", "/x/1").route, nullptr);                  // HEAD only where registered
}

TEST(Router, RejectsMalformedPatterns) {
  Router r;
  EXPECT_FALSE(r.add("GET", "containers", ok_handler("")));
  EXPECT_FALSE(r.add("GET", "/a/{}", ok_handler("")));
  EXPECT_FALSE(r.add("GET", "/a/{name", ok_handler("")));
  EXPECT_FALSE(r.add("GET", "/a/x{name}", ok_handler("")));
  EXPECT_FALSE(r.add("GET", "/a/{name:[0-9]+}", ok_handler("")));
  EXPECT_FALSE(r.add("GET", "/a", Handler{}));
  EXPECT_EQ(r.size(), 0u);
}

TEST(Query, ParsesDecodesAndRepeats) {
  auto q = Query::parse("all=1&filters=%7B%22a%22%3A%5B%22b%22%5D%7D&x=a+b&x=c&flag&=v&&");
  ASSERT_TRUE(q);
  EXPECT_EQ(q->get("all"), "1");
  EXPECT_EQ(q->get("filters"), R"({"a":["b"]})");
  EXPECT_EQ(q->get_all("x"), (std::vector<std::string>{"a b", "c"}));
  EXPECT_TRUE(q->has("flag"));
  EXPECT_EQ(q->get("flag"), "");
  EXPECT_EQ(q->get("missing"), "");
  auto bad = Query::parse("a=%zz");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message, "invalid URL escape \"%zz\"");
  EXPECT_FALSE(Query::parse("a=%4"));
}

TEST(Query, BoolsAndInts) {
  auto q = Query::parse("t=1&f=0&n=no&F=FALSE&none=none&y=yes&e=&i=-12&bad=1x").value();
  EXPECT_TRUE(q.get_bool("t"));
  EXPECT_TRUE(q.get_bool("y"));
  EXPECT_FALSE(q.get_bool("f"));
  EXPECT_FALSE(q.get_bool("n"));
  EXPECT_FALSE(q.get_bool("F"));
  EXPECT_FALSE(q.get_bool("none"));
  EXPECT_FALSE(q.get_bool("e"));
  EXPECT_FALSE(q.get_bool("missing"));
  EXPECT_TRUE(q.get_bool_or("missing", true));
  EXPECT_TRUE(q.get_bool_or("e", true));
  EXPECT_FALSE(q.get_bool_or("f", true));
  EXPECT_EQ(q.get_int("i", 0).value(), -12);
  EXPECT_EQ(q.get_int("missing", 7).value(), 7);
  auto bad = q.get_int("bad", 0);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, Code::Invalid);
}

TEST(Filters, BothFormsAndEmpty) {
  auto cur = parse_filters(R"({"label":{"a=b":true,"c":true},"status":{"running":true}})");
  ASSERT_TRUE(cur);
  EXPECT_EQ(cur->at("label"), (std::vector<std::string>{"a=b", "c"}));
  EXPECT_EQ(cur->at("status"), (std::vector<std::string>{"running"}));
  auto legacy = parse_filters(R"({"label":["x","a=b","x"],"dangling":["true"]})");
  ASSERT_TRUE(legacy);
  EXPECT_EQ(legacy->at("label"), (std::vector<std::string>{"a=b", "x"}));
  EXPECT_EQ(legacy->at("dangling"), (std::vector<std::string>{"true"}));
  EXPECT_TRUE(parse_filters("")->empty());
  EXPECT_TRUE(parse_filters("{}")->empty());
  EXPECT_FALSE(parse_filters(R"({"a":[1e999]})"));
}

TEST(Filters, RejectsOtherShapes) {
  for (const char* bad : {"[", "[]", "\"x\"", R"({"a":"b"})", R"({"a":[1]})", R"({"a":{"b":1}})"}) {
    auto f = parse_filters(bad);
    ASSERT_FALSE(f) << bad;
    EXPECT_EQ(f.error().code, Code::Invalid);
    EXPECT_TRUE(f.error().message.starts_with("invalid filter")) << f.error().message;
  }
}

TEST(Errors, CodeToStatusAndBody) {
  EXPECT_EQ(status_for(Code::Invalid), 400);
  EXPECT_EQ(status_for(Code::NotFound), 404);
  EXPECT_EQ(status_for(Code::Conflict), 409);
  EXPECT_EQ(status_for(Code::Permission), 403);
  EXPECT_EQ(status_for(Code::Unavailable), 503);
  EXPECT_EQ(status_for(Code::Internal), 500);
  Response r = Response::error(Error{0, Code::Conflict, "name \"web\" is already in use"});
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_EQ(r.body, "{\"message\":\"name \\\"web\\\" is already in use\"}\n");
}

TEST(Mux, FramesRoundTrip) {
  std::string out = mux_frame(StdStream::Stdout, "hello\n");
  ASSERT_EQ(out.size(), 8u + 6u);
  EXPECT_EQ(std::string(out.data(), 8), std::string("\x01\0\0\0\0\0\0\x06", 8));
  append_mux_frame(out, StdStream::Stderr, std::string(300, 'e'));
  EXPECT_EQ(static_cast<unsigned char>(out[14 + 6]), 0x01);  // 300 = 0x012c
  EXPECT_EQ(static_cast<unsigned char>(out[14 + 7]), 0x2c);
  MuxDecoder d;
  d.feed(out.substr(0, 5));
  EXPECT_FALSE(d.next().value());
  d.feed(out.substr(5));
  auto f1 = d.next().value();
  ASSERT_TRUE(f1);
  EXPECT_EQ(f1->stream, StdStream::Stdout);
  EXPECT_EQ(f1->payload, "hello\n");
  auto f2 = d.next().value();
  ASSERT_TRUE(f2);
  EXPECT_EQ(f2->stream, StdStream::Stderr);
  EXPECT_EQ(f2->payload.size(), 300u);
  EXPECT_EQ(d.pending(), 0u);
  MuxDecoder bad;
  bad.feed(std::string("\x07\0\0\0\0\0\0\0", 8));
  EXPECT_FALSE(bad.next());
}

class Dispatching : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(router.add("GET", "/containers/{name}/json", ok_handler("inspect")));
    ASSERT_TRUE(router.add("POST", "/containers/create", [](Call& c) -> Result<Response> {
      auto body = c.req.json_object();
      if (!body) return std::unexpected(body.error());
      int64_t memory = 0;
      SILO_TRY(get_opt(*body, "Memory", memory, "HostConfig"));
      return Response::json({{"Memory", memory}}, 201);
    }));
    ASSERT_TRUE(router.add("GET", "/throw",
                           [](Call&) -> Result<Response> { throw std::runtime_error("boom"); }));
    ASSERT_TRUE(router.add("GET", "/typeerror", [](Call&) -> Result<Response> {
      Json j = Json::parse(R"({"a":"x"})");
      return Response::json({{"a", j.at("a").get<int>()}});
    }));
    ASSERT_TRUE(router.add("GET", "/stream", [](Call& c) -> Result<Response> {
      SILO_TRY(c.begin_stream(200, "application/json"));
      SILO_TRY(c.write("{\"n\":1}\n"));
      SILO_TRY(c.write("{\"n\":2}\n"));
      return Response{};
    }));
    ASSERT_TRUE(add_system_routes(router, VersionInfo{}));
  }
  Router router;
};

TEST_F(Dispatching, RoutesWithAndWithoutVersion) {
  Response a = serve_in_memory(router, make("GET", "/containers/web/json"));
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(Json::parse(a.body)["version"], "1.41");
  Response b = serve_in_memory(router, make("GET", "/v1.24/containers/web/json?x=1"));
  EXPECT_EQ(b.status, 200);
  EXPECT_EQ(Json::parse(b.body)["version"], "1.24");
  EXPECT_EQ(Json::parse(b.body)["params"]["name"], "web");
  Response c = serve_in_memory(router, make("GET", "/v1.41/containers/a%20b/json"));
  EXPECT_EQ(Json::parse(c.body)["params"]["name"], "a b");
}

TEST_F(Dispatching, NotFoundAndWrongMethod) {
  Response a = serve_in_memory(router, make("GET", "/nope"));
  EXPECT_EQ(a.status, 404);
  EXPECT_EQ(message_of(a), "page not found");
  Response b = serve_in_memory(router, make("DELETE", "/v1.41/containers/create"));
  EXPECT_EQ(b.status, 404);
  EXPECT_EQ(message_of(b), "page not found");
  // Unknown path with a bad version: 404 wins, as route matching comes first in dockerd.
  EXPECT_EQ(serve_in_memory(router, make("GET", "/v1.99/nope")).status, 404);
}

TEST_F(Dispatching, VersionErrors) {
  Response a = serve_in_memory(router, make("GET", "/v1.50/_ping"));
  EXPECT_EQ(a.status, 400);
  EXPECT_EQ(message_of(a), "client version 1.50 is too new. Maximum supported API version is 1.41");
  Response b = serve_in_memory(router, make("GET", "/v1.11/version"));
  EXPECT_EQ(b.status, 400);
  EXPECT_TRUE(b.body.starts_with("client version 1.11 is too old."));
}

TEST_F(Dispatching, OldClientsGetPlainTextErrors) {
  Response old = serve_in_memory(router, make("GET", "/v1.23/nope"));
  EXPECT_EQ(old.status, 404);
  EXPECT_EQ(old.content_type, "text/plain; charset=utf-8");
  EXPECT_EQ(old.body, "page not found\n");
  Response too_old = serve_in_memory(router, make("GET", "/v1.11/_ping"));
  EXPECT_EQ(too_old.status, 400);
  EXPECT_EQ(too_old.body,
            "client version 1.11 is too old. Minimum supported API version is 1.12, please "
            "upgrade your client to a newer version\n");
  EXPECT_EQ(serve_in_memory(router, make("GET", "/v1.24/nope")).content_type, "application/json");
}

TEST_F(Dispatching, JsonBodies) {
  Response ok = serve_in_memory(
      router, make("POST", "/containers/create", R"({"Memory":1024})", "application/json"));
  EXPECT_EQ(ok.status, 201);
  EXPECT_EQ(Json::parse(ok.body)["Memory"], 1024);
  Response ct = serve_in_memory(router, make("POST", "/containers/create", R"({"Memory":1})",
                                             "application/json; charset=utf-8"));
  EXPECT_EQ(ct.status, 201);
  Response malformed = serve_in_memory(
      router, make("POST", "/containers/create", R"({"Memory":)", "application/json"));
  EXPECT_EQ(malformed.status, 400);
  EXPECT_TRUE(message_of(malformed).starts_with("invalid JSON: parse error")) << malformed.body;
  Response wrong_ct =
      serve_in_memory(router, make("POST", "/containers/create", "{}", "text/plain"));
  EXPECT_EQ(wrong_ct.status, 400);
  EXPECT_EQ(message_of(wrong_ct), "Content-Type specified (text/plain) must be 'application/json'");
  Response wrong_type = serve_in_memory(
      router, make("POST", "/containers/create", R"({"Memory":"lots"})", "application/json"));
  EXPECT_EQ(wrong_type.status, 400);
  EXPECT_EQ(message_of(wrong_type), "HostConfig.Memory: wrong type (string)");
  Response empty =
      serve_in_memory(router, make("POST", "/containers/create", "", "application/json"));
  EXPECT_EQ(empty.status, 400);
  EXPECT_EQ(message_of(empty), "invalid JSON: got EOF while reading request body");
  Response huge = serve_in_memory(
      router, make("POST", "/containers/create", R"({"Memory":1e999})", "application/json"));
  EXPECT_EQ(huge.status, 400);
  EXPECT_TRUE(message_of(huge).starts_with("invalid JSON: number overflow")) << huge.body;
  Response array =
      serve_in_memory(router, make("POST", "/containers/create", "[]", "application/json"));
  EXPECT_EQ(message_of(array), "invalid JSON: expected an object, got array");
}

TEST_F(Dispatching, ExceptionsBecomeResponses) {
  Response boom = serve_in_memory(router, make("GET", "/throw"));
  EXPECT_EQ(boom.status, 500);
  EXPECT_EQ(message_of(boom), "internal error: boom");
  Response type = serve_in_memory(router, make("GET", "/typeerror"));
  EXPECT_EQ(type.status, 400);
  EXPECT_TRUE(message_of(type).starts_with("invalid JSON: type must be number")) << type.body;
}

TEST_F(Dispatching, StreamCollectedInMemory) {
  Response s = serve_in_memory(router, make("GET", "/stream"));
  EXPECT_EQ(s.status, 200);
  EXPECT_EQ(s.body, "{\"n\":1}\n{\"n\":2}\n");
}

TEST_F(Dispatching, VersionRouteShape) {
  Response v = serve_in_memory(router, make("GET", "/v1.41/version"));
  ASSERT_EQ(v.status, 200);
  Json j = Json::parse(v.body);
  EXPECT_EQ(j["ApiVersion"], "1.41");
  EXPECT_EQ(j["MinAPIVersion"], "1.12");
  EXPECT_EQ(j["Os"], "linux");
  for (const char* k : {"Version", "Arch", "KernelVersion", "GitCommit", "GoVersion", "BuildTime"})
    EXPECT_TRUE(j.contains(k)) << k;
  EXPECT_EQ(j["Components"][0]["Name"], "Engine");
  EXPECT_EQ(j["Components"][0]["Details"]["ApiVersion"], "1.41");
  EXPECT_FALSE(j["Arch"].get<std::string>().empty());
}

TEST(ParseRequest, ContentLengthChunkedAndGarbage) {
  auto a = parse_request(
      "POST /v1.41/containers/create?name=x HTTP/1.1\r\nHost: d\r\n"
      "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}");
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_EQ(a->method, "POST");
  EXPECT_EQ(a->target, "/v1.41/containers/create?name=x");
  EXPECT_EQ(a->body, "{}");
  EXPECT_EQ(a->headers.get("content-type").value(), "application/json");
  auto b = parse_request(
      "POST /build HTTP/1.1\r\nHost: d\r\nTransfer-Encoding: chunked\r\n\r\n"
      "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n");
  ASSERT_TRUE(b) << b.error().message;
  EXPECT_EQ(b->body, "abcde");
  EXPECT_FALSE(parse_request("GARBAGE\r\n\r\n"));
  EXPECT_FALSE(parse_request("GET / HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc"));
  EXPECT_FALSE(parse_request("POST / HTTP/1.1\r\nContent-Length: 100\r\n\r\n", 10));
}

}  // namespace
}  // namespace silo::api
