// The registry client against an in-memory registry (fake_registry.h): endpoints, manifests
// and their digests, blobs with resume, progress and parallelism, auth, push and the
// wording of its errors.

#include "image/registry.h"

#include <gtest/gtest.h>

#include "fake_registry.h"
#include "temp_dir.h"

namespace silo::image {
namespace {

using testing::FakeRegistry;
using testing::TempDir;

constexpr std::string_view kManifest =
    R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",)"
    R"("config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:)"
    R"(aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","size":2},"layers":[]})";

Reference parse_ref(std::string_view text) {
  return *parse_reference(text);
}

Descriptor desc(const std::string& data) {
  return Descriptor{.media_type = "application/octet-stream",
                    .digest = Digest::of(data),
                    .size = static_cast<int64_t>(data.size())};
}

class RegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(store_.init());
    fake_.manifests["app"]["v1"] = {std::string(media_type::kOciManifest), std::string(kManifest)};
    fake_.blobs["app"][Digest::of(layer_).str()] = layer_;
  }
  RegistryClient client(RegistryOptions o = {}) { return RegistryClient(fake_, std::move(o)); }

  FakeRegistry fake_;
  TempDir dir_;
  BlobStore store_{dir_.path()};
  std::string layer_ = std::string(1000, 'x') + "layer bytes";
};

TEST(RegistryEndpoint, ResolvesHostsSchemesAndCAs) {
  RegistryOptions o{.insecure_registries = {"reg.test:5000"},
                    .ca_files = {{"secure.test", "/ca.pem"}}};
  Endpoint hub = resolve_endpoint(parse_ref("busybox"), o);
  EXPECT_EQ(hub.host, "registry-1.docker.io");
  EXPECT_EQ(hub.repository, "library/busybox");
  EXPECT_EQ(hub.schemes, std::vector<std::string>{"https"});
  EXPECT_FALSE(hub.insecure);
  for (auto text : {"localhost:5000/a", "127.0.0.1:5000/a", "reg.test:5000/a"}) {
    Endpoint e = resolve_endpoint(parse_ref(text), o);
    EXPECT_TRUE(e.insecure) << text;
    EXPECT_EQ(e.schemes, (std::vector<std::string>{"https", "http"})) << text;
  }
  Endpoint sec = resolve_endpoint(parse_ref("secure.test/x/y:1"), o);
  EXPECT_FALSE(sec.insecure);
  EXPECT_EQ(sec.ca_file, "/ca.pem");
  EXPECT_EQ(sec.display, "secure.test/x/y");
  EXPECT_FALSE(resolve_endpoint(parse_ref("reg.test:5001/a"), o).insecure);
}

TEST_F(RegistryTest, GetsAManifestWithEveryMediaTypeAcceptedAndItsDigest) {
  auto rc = client();
  auto m = rc.get_manifest(parse_ref("localhost:5000/app:v1"));
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(m->body, kManifest);
  EXPECT_EQ(m->media_type, media_type::kOciManifest);
  EXPECT_EQ(m->digest, Digest::of(kManifest));
  auto seen = fake_.requests_to("GET", "/v2/app/manifests/v1");
  ASSERT_EQ(seen.size(), 1u);
  std::string accept = seen[0].header("Accept");
  for (auto t : {media_type::kDockerManifest, media_type::kDockerManifestList,
                 media_type::kOciManifest, media_type::kOciIndex})
    EXPECT_NE(accept.find(t), std::string::npos) << t;
  // localhost is insecure but answers https (without certificate checks), as Docker tries.
  EXPECT_TRUE(seen[0].url.starts_with("https://localhost:5000/"));
  auto head = rc.head_manifest(parse_ref("localhost:5000/app:v1"));
  ASSERT_TRUE(head) << head.error().message;
  EXPECT_EQ(head->digest, m->digest);
  EXPECT_EQ(head->size, kManifest.size());
}

TEST_F(RegistryTest, ManifestDigestsAreVerified) {
  auto rc = client();
  Digest d = Digest::of(kManifest);
  auto by_digest = rc.get_manifest(parse_ref("localhost:5000/app@" + d.str()));
  ASSERT_FALSE(by_digest);  // the fake has it under v1 only
  fake_.manifests["app"][d.str()] = fake_.manifests["app"]["v1"];
  by_digest = rc.get_manifest(parse_ref("localhost:5000/app@" + d.str()));
  ASSERT_TRUE(by_digest) << by_digest.error().message;
  // A body that is not what was asked for is refused.
  std::string other = Digest::of("other").str();
  fake_.manifests["app"][other] = fake_.manifests["app"]["v1"];
  auto wrong = rc.get_manifest(parse_ref("localhost:5000/app@" + other));
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code, Code::Invalid);
  EXPECT_NE(wrong.error().message.find("is corrupt: expected digest " + other), std::string::npos)
      << wrong.error().message;
  fake_.wrong_digest_header = other;
  auto by_tag = rc.get_manifest(parse_ref("localhost:5000/app:v1"));
  ASSERT_FALSE(by_tag);
  EXPECT_NE(by_tag.error().message.find("corrupt"), std::string::npos);
}

TEST_F(RegistryTest, UnknownManifestsAndRepositoriesSayWhatDockerSays) {
  auto rc = client();
  auto tag = rc.get_manifest(parse_ref("localhost:5000/app:nope"));
  ASSERT_FALSE(tag);
  EXPECT_EQ(tag.error().code, Code::NotFound);
  EXPECT_EQ(tag.error().message,
            "manifest for localhost:5000/app:nope not found: manifest unknown: manifest unknown");
  auto repo = rc.get_manifest(parse_ref("localhost:5000/nope"));
  ASSERT_FALSE(repo);
  EXPECT_EQ(repo.error().code, Code::NotFound);
  EXPECT_TRUE(repo.error().message.starts_with(
      "pull access denied for localhost:5000/nope, repository does not exist or may require "
      "'docker login'"))
      << repo.error().message;
}

TEST_F(RegistryTest, HttpOnlyRegistryIsReachedWhenInsecureAndNamedWhenNot) {
  fake_.http_only = true;
  auto rc = client({.insecure_registries = {"reg.test:5000"}});
  auto ok = rc.get_manifest(parse_ref("reg.test:5000/app:v1"));
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_TRUE(fake_.requests.back().url.starts_with("http://reg.test:5000/"));
  auto secure = rc.get_manifest(parse_ref("other.test:5000/app:v1"));
  ASSERT_FALSE(secure);
  EXPECT_EQ(secure.error().code, Code::Unavailable);
  EXPECT_NE(secure.error().message.find("server gave HTTP response to HTTPS client"),
            std::string::npos);
  EXPECT_NE(secure.error().message.find("add \"other.test:5000\" to insecure-registries"),
            std::string::npos)
      << secure.error().message;
}

TEST_F(RegistryTest, BearerChallengeGetsAnAnonymousTokenOnceAndRetries) {
  fake_.auth = FakeRegistry::Auth::Bearer;
  fake_.user = "anonymous";
  auto rc = client();
  ASSERT_TRUE(rc.get_manifest(parse_ref("localhost:5000/app:v1")));
  ASSERT_TRUE(rc.get_manifest(parse_ref("localhost:5000/app:v1")));
  EXPECT_EQ(fake_.token_requests, 1);
  EXPECT_EQ(fake_.last_token_query, "service=fake.test&scope=repository%3Aapp%3Apull");
  auto token_req = fake_.requests_to("GET", "/token");
  ASSERT_EQ(token_req.size(), 1u);
  EXPECT_EQ(token_req[0].header("Authorization"), "");
  EXPECT_EQ(fake_.requests.back().header("Authorization"), "Bearer tok-anonymous");
}

TEST_F(RegistryTest, BearerTokenWithCredentialsAndBasicAuth) {
  fake_.auth = FakeRegistry::Auth::Bearer;
  RegistryOptions o{.credentials = {{"localhost:5000", {"alice", "secret"}}}};
  auto rc = client(o);
  ASSERT_TRUE(rc.get_manifest(parse_ref("localhost:5000/app:v1")));
  EXPECT_EQ(fake_.requests_to("GET", "/token")[0].header("Authorization"),
            "Basic YWxpY2U6c2VjcmV0");
  fake_.auth = FakeRegistry::Auth::Basic;
  auto basic = client(o);
  ASSERT_TRUE(basic.get_manifest(parse_ref("localhost:5000/app:v1")));
  EXPECT_EQ(fake_.requests.back().header("Authorization"), "Basic YWxpY2U6c2VjcmV0");
  auto anonymous = client();
  auto denied = anonymous.get_manifest(parse_ref("localhost:5000/app:v1"));
  ASSERT_FALSE(denied);
  EXPECT_EQ(denied.error().code, Code::Permission);
  EXPECT_NE(denied.error().message.find("may require 'docker login'"), std::string::npos);
}

TEST_F(RegistryTest, BlobIsStreamedIntoTheStoreWithProgress) {
  auto rc = client();
  std::vector<std::pair<uint64_t, uint64_t>> seen;
  auto s = rc.fetch_blob(
      parse_ref("localhost:5000/app"), desc(layer_), store_,
      [&](const Digest&, uint64_t done, uint64_t total) { seen.emplace_back(done, total); });
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(*store_.read(Digest::of(layer_)), layer_);
  ASSERT_GT(seen.size(), 10u);  // chunk by chunk
  EXPECT_EQ(seen.back().first, layer_.size());
  EXPECT_EQ(seen.back().second, layer_.size());
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
}

TEST_F(RegistryTest, CorruptOrMissingBlobsAreRefusedAndNothingIsStored) {
  auto rc = client();
  std::string bad = "not the layer";
  Descriptor d = desc(layer_);
  fake_.blobs["app"][d.digest.str()] = std::string(layer_.size(), 'y');
  auto s = rc.fetch_blob(parse_ref("localhost:5000/app"), d, store_);
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("is corrupt"), std::string::npos) << s.error().message;
  EXPECT_FALSE(store_.exists(d.digest));
  auto missing = rc.fetch_blob(parse_ref("localhost:5000/app"), desc(bad), store_);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Code::NotFound);
  EXPECT_NE(missing.error().message.find("localhost:5000/app"), std::string::npos);
}

TEST_F(RegistryTest, InterruptedBlobResumesWithARangeRequest) {
  auto rc = client();
  fake_.fail_after = 500;
  auto first = rc.fetch_blob(parse_ref("localhost:5000/app"), desc(layer_), store_);
  ASSERT_FALSE(first);
  EXPECT_FALSE(store_.exists(Digest::of(layer_)));
  auto again = rc.fetch_blob(parse_ref("localhost:5000/app"), desc(layer_), store_);
  ASSERT_TRUE(again) << again.error().message;
  auto gets = fake_.requests_to("GET", "/blobs/");
  ASSERT_EQ(gets.size(), 2u);
  EXPECT_EQ(gets[1].header("Range"), "bytes=500-");
  EXPECT_EQ(*store_.read(Digest::of(layer_)), layer_);
}

TEST_F(RegistryTest, ARegistryThatIgnoresRangeStillGivesAWholeBlob) {
  auto rc = client();
  fake_.fail_after = 300;
  fake_.ignore_range = true;
  ASSERT_FALSE(rc.fetch_blob(parse_ref("localhost:5000/app"), desc(layer_), store_));
  auto s = rc.fetch_blob(parse_ref("localhost:5000/app"), desc(layer_), store_);
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(*store_.read(Digest::of(layer_)), layer_);
}

TEST_F(RegistryTest, SeveralBlobsAreFetchedInParallel) {
  std::vector<Descriptor> descs;
  for (int i = 0; i < 6; ++i) {
    std::string data = "blob " + std::to_string(i) + std::string(100, 'z');
    fake_.blobs["app"][Digest::of(data).str()] = data;
    descs.push_back(desc(data));
  }
  fake_.delay_ms = 100;
  auto rc = client({.parallel_downloads = 3});
  ASSERT_TRUE(rc.fetch_blobs(parse_ref("localhost:5000/app"), descs, store_));
  for (const auto& d : descs) EXPECT_TRUE(store_.exists(d.digest));
  EXPECT_GE(fake_.max_in_flight, 2);
  EXPECT_LE(fake_.max_in_flight, 3);
}

TEST_F(RegistryTest, PushSkipsExistingBlobsMountsAcrossRepositoriesAndUploads) {
  auto rc = client();
  std::string config = R"({"architecture":"amd64"})";
  ASSERT_TRUE(store_.put(config));
  ASSERT_TRUE(store_.put(layer_));
  // The layer is in "app": pushing it to "app" is a HEAD only.
  ASSERT_TRUE(rc.push_blob(parse_ref("localhost:5000/app"), desc(layer_), store_));
  EXPECT_TRUE(fake_.requests_to("POST", "/blobs/uploads/").empty());
  // To "copy" with mount_from=app: mounted, no PUT.
  auto mounted = rc.push_blob(parse_ref("localhost:5000/copy"), desc(layer_), store_, "app");
  ASSERT_TRUE(mounted) << mounted.error().message;
  ASSERT_EQ(fake_.requests_to("POST", "/v2/copy/blobs/uploads/?mount=sha256%3A").size(), 1u);
  EXPECT_TRUE(fake_.requests_to("PUT", "/blobs/uploads/").empty());
  EXPECT_EQ(fake_.blobs["copy"][Digest::of(layer_).str()], layer_);
  // The config is nowhere: POST then PUT with the whole body.
  uint64_t last = 0;
  auto up = rc.push_blob(parse_ref("localhost:5000/copy"), desc(config), store_, std::nullopt,
                         [&](const Digest&, uint64_t done, uint64_t) { last = done; });
  ASSERT_TRUE(up) << up.error().message;
  EXPECT_EQ(last, config.size());
  auto puts = fake_.requests_to("PUT", "/v2/copy/blobs/uploads/u1?_state=x&digest=sha256%3A");
  ASSERT_EQ(puts.size(), 1u);
  EXPECT_EQ(puts[0].body, config);
  auto digest =
      rc.put_manifest(parse_ref("localhost:5000/copy:v2"), media_type::kOciManifest, kManifest);
  ASSERT_TRUE(digest) << digest.error().message;
  EXPECT_EQ(*digest, Digest::of(kManifest));
  auto back = rc.get_manifest(parse_ref("localhost:5000/copy:v2"));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->media_type, media_type::kOciManifest);
}

TEST_F(RegistryTest, PushDeniedNamesTheRepositoryAndLogin) {
  fake_.auth = FakeRegistry::Auth::Basic;
  ASSERT_TRUE(store_.put(layer_));
  auto rc = client();
  auto s = rc.push_blob(parse_ref("localhost:5000/app"), desc(layer_), store_);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, Code::Permission);
  EXPECT_NE(s.error().message.find("push access denied for localhost:5000/app"), std::string::npos)
      << s.error().message;
  EXPECT_NE(s.error().message.find("docker login localhost:5000"), std::string::npos);
}

TEST_F(RegistryTest, LoginAcceptsTheRightPasswordAndRefusesAWrongOneWithBasicAndBearer) {
  for (auto mode : {FakeRegistry::Auth::Basic, FakeRegistry::Auth::Bearer}) {
    SCOPED_TRACE(mode == FakeRegistry::Auth::Basic ? "Basic" : "Bearer");
    fake_.auth = mode;
    auto right = client({.credentials = {{"localhost:5000", {"alice", "secret"}}}});
    auto ok = right.check_login("localhost:5000");
    ASSERT_TRUE(ok) << ok.error().message;
    EXPECT_EQ(fake_.requests.back().url, "https://localhost:5000/v2/");
    auto wrong = client({.credentials = {{"localhost:5000", {"alice", "wrong"}}}});
    auto denied = wrong.check_login("localhost:5000");
    ASSERT_FALSE(denied);
    EXPECT_EQ(denied.error().code, Code::Permission);
    EXPECT_EQ(denied.error().message,
              R"(Get "https://localhost:5000/v2/": unauthorized: incorrect username or password)");
  }
  // Docker Hub is asked on its API host; the credentials are kept under docker.io.
  auto hub = client({.credentials = {{"docker.io", {"alice", "wrong"}}}});
  auto denied = hub.check_login("docker.io");
  ASSERT_FALSE(denied);
  EXPECT_EQ(denied.error().message,
            R"(Get "https://registry-1.docker.io/v2/": unauthorized: incorrect username or )"
            R"(password)");
  EXPECT_TRUE(
      client({.credentials = {{"docker.io", {"alice", "secret"}}}}).check_login("docker.io"));
}

TEST_F(RegistryTest, LoginGoesOverHttpToAnInsecureRegistryAndNamesAHostThatIsNoRegistry) {
  fake_.auth = FakeRegistry::Auth::Basic;
  fake_.http_only = true;
  RegistryOptions o{.insecure_registries = {"reg.test:5000"},
                    .credentials = {{"reg.test:5000", {"alice", "wrong"}}}};
  auto denied = client(o).check_login("reg.test:5000");
  ASSERT_FALSE(denied);
  EXPECT_EQ(denied.error().message,
            R"(Get "http://reg.test:5000/v2/": unauthorized: incorrect username or password)");
  o.credentials["reg.test:5000"].password = "secret";
  auto ok = client(o).check_login("reg.test:5000");
  EXPECT_TRUE(ok) << ok.error().message;
  // No auth asked: any credentials pass, as with dockerd.
  fake_.auth = FakeRegistry::Auth::None;
  auto open = client({.credentials = {{"localhost:5000", {"u", "p"}}}});
  EXPECT_TRUE(open.check_login("localhost:5000"));
  fake_.v2_status = 404;
  auto web = client().check_login("localhost:5000");
  ASSERT_FALSE(web);
  EXPECT_EQ(web.error().code, Code::Unavailable);
  EXPECT_NE(web.error().message.find("localhost:5000"), std::string::npos);
  EXPECT_NE(web.error().message.find("is it a Docker registry"), std::string::npos)
      << web.error().message;
  auto secure = client().check_login("other.test:5000");
  ASSERT_FALSE(secure);
  EXPECT_EQ(secure.error().code, Code::Unavailable);
  EXPECT_NE(secure.error().message.find("other.test:5000"), std::string::npos);
}

}  // namespace
}  // namespace silo::image
