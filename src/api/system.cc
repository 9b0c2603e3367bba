#include "api/system.h"

#include <sys/utsname.h>

#include "api/version.h"

namespace silo::api {
namespace {

// uname's machine names as Go spells them in GOARCH, which clients compare against.
std::string goarch(std::string machine) {
  if (machine == "x86_64") return "amd64";
  if (machine == "aarch64") return "arm64";
  if (machine == "i686" || machine == "i386") return "386";
  if (machine.starts_with("armv")) return "arm";
  if (machine == "ppc64le") return "ppc64le";
  return machine;
}

}  // namespace

std::string silo_build_version() {
  return SILO_VERSION;
}

VersionInfo with_host_defaults(VersionInfo info) {
  struct utsname u {};
  if (::uname(&u) == 0) {
    if (info.kernel_version.empty()) info.kernel_version = u.release;
    if (info.arch.empty()) info.arch = goarch(u.machine);
  }
  return info;
}

std::string server_header(const VersionInfo& info) {
  return "Docker/" + info.engine_version + " (linux) Silo/" + info.silo_version;
}

Json version_json(const VersionInfo& info) {
  const std::string compiler = std::string("g++ ") + __VERSION__;
  Json details = {{"ApiVersion", kMaxApiVersion},
                  {"Arch", info.arch},
                  {"BuildTime", info.build_time},
                  {"Experimental", "false"},
                  {"GitCommit", info.git_commit},
                  {"GoVersion", compiler},
                  {"KernelVersion", info.kernel_version},
                  {"MinAPIVersion", kMinApiVersion},
                  {"Os", "linux"}};
  return Json{
      {"Platform", {{"Name", info.platform_name}}},
      {"Components",
       Json::array(
           {Json{{"Name", "Engine"}, {"Version", info.engine_version}, {"Details", details}},
            Json{{"Name", "Silo"},
                 {"Version", info.silo_version},
                 {"Details", {{"GitCommit", info.git_commit}}}}})},
      {"Version", info.engine_version},
      {"ApiVersion", kMaxApiVersion},
      {"MinAPIVersion", kMinApiVersion},
      {"GitCommit", info.git_commit},
      {"GoVersion", compiler},
      {"Os", "linux"},
      {"Arch", info.arch},
      {"KernelVersion", info.kernel_version},
      {"BuildTime", info.build_time},
  };
}

Status add_system_routes(Router& router, const VersionInfo& raw) {
  VersionInfo info = with_host_defaults(raw);
  auto ping_headers = [builder = info.builder_version](Response& r) {
    r.headers.set("Cache-Control", "no-cache, no-store, must-revalidate");
    r.headers.set("Pragma", "no-cache");
    if (!builder.empty()) r.headers.set("Builder-Version", builder);
  };
  if (!router.has("GET", "/_ping"))
    SILO_TRY(router.add("GET", "/_ping", [ping_headers](Call&) -> Result<Response> {
      Response r = Response::text("OK");
      ping_headers(r);
      return r;
    }));
  // dockerd answers HEAD /_ping with an empty body and Content-Length: 0.
  if (!router.has("HEAD", "/_ping"))
    SILO_TRY(router.add("HEAD", "/_ping", [ping_headers](Call&) -> Result<Response> {
      Response r = Response::text("");
      ping_headers(r);
      return r;
    }));
  if (!router.has("GET", "/version"))
    SILO_TRY(router.add("GET", "/version", [body = version_json(info)](Call&) -> Result<Response> {
      return Response::json(body);
    }));
  return {};
}

}  // namespace silo::api
