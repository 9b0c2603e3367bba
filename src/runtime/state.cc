#include "runtime/state.h"

#include <dirent.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <ctime>

#include "common/sys.h"

namespace silo::runtime {

std::string status_name(ContainerStatus s) {
  switch (s) {
    case ContainerStatus::Creating:
      return "creating";
    case ContainerStatus::Created:
      return "created";
    case ContainerStatus::Running:
      return "running";
    case ContainerStatus::Paused:
      return "paused";
    case ContainerStatus::Stopped:
      return "stopped";
  }
  return "unknown";
}

Status StateDir::reserve(const std::string& id) const {
  SILO_TRY_CTX(sys::mkdir_p(root_, 0711), "runtime root");
  if (::mkdir(dir(id).c_str(), 0711) < 0) {
    if (errno == EEXIST)
      return fail(Code::Conflict, "container with id " + id +
                                      " already exists; delete it first or pick another id");
    return fail_errno(errno, "mkdir " + dir(id));
  }
  return {};
}

Status StateDir::save(const ContainerState& st) const {
  Json j = {{"id", st.id},
            {"bundle", st.bundle},
            {"rootfs", st.rootfs},
            {"pid", st.pid},
            {"pid_start", st.pid_start},
            {"created", st.created},
            {"owner", st.owner},
            {"cgroups_path", st.cgroups_path},
            {"config", st.config}};
  return sys::write_file_atomic(dir(st.id) + "/state.json", j.dump(), 0600);
}

Result<ContainerState> StateDir::load(const std::string& id) const {
  auto text = sys::read_file(dir(id) + "/state.json");
  if (!text) {
    if (text.error().code == Code::NotFound)
      return fail(Code::NotFound, "container " + id + " does not exist");
    return std::unexpected(text.error());
  }
  auto j = parse_json(*text, dir(id) + "/state.json");
  if (!j) return std::unexpected(j.error());
  ContainerState st;
  try {
    st.id = j->value("id", id);
    st.bundle = j->value("bundle", "");
    st.rootfs = j->value("rootfs", "");
    st.pid = j->value("pid", 0);
    st.pid_start = j->value("pid_start", 0ull);
    st.created = j->value("created", "");
    st.owner = j->value("owner", "");
    st.cgroups_path = j->value("cgroups_path", "");
    st.config = j->value("config", Json::object());
  } catch (const nlohmann::json::exception& e) {
    return fail(Code::Internal, "state of container " + id + " is damaged (" + e.what() +
                                    "); delete it with --force");
  }
  return st;
}

Status StateDir::remove(const std::string& id) const {
  return sys::remove_all(dir(id));
}

std::vector<std::string> StateDir::list() const {
  std::vector<std::string> ids;
  DIR* d = ::opendir(root_.c_str());
  if (!d) return ids;
  while (auto* e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;
    if (sys::path_exists(root_ + "/" + e->d_name + "/state.json")) ids.emplace_back(e->d_name);
  }
  ::closedir(d);
  std::sort(ids.begin(), ids.end());
  return ids;
}

namespace {
// Fields after the command name in /proc/<pid>/stat; [0] is the state letter.
bool read_stat(pid_t pid, char* state, unsigned long long* start) {
  auto text = sys::read_file("/proc/" + std::to_string(pid) + "/stat");
  if (!text) return false;
  // The command name may contain spaces and ')': the fields start after the last ')'.
  auto close = text->rfind(')');
  if (close == std::string::npos || close + 2 >= text->size()) return false;
  const char* p = text->c_str() + close + 2;
  *state = *p;
  // starttime is field 22 overall, i.e. the 20th after "pid (comm)".
  for (int field = 3; field < 22 && *p; ++field) {
    p = std::strchr(p, ' ');
    if (!p) return false;
    ++p;
  }
  *start = std::strtoull(p, nullptr, 10);
  return true;
}
}  // namespace

unsigned long long process_start_time(pid_t pid) {
  char state;
  unsigned long long start = 0;
  return read_stat(pid, &state, &start) ? start : 0;
}

bool process_alive(pid_t pid, unsigned long long start) {
  if (pid <= 0) return false;
  char state = 0;
  unsigned long long s = 0;
  if (!read_stat(pid, &state, &s)) return false;
  if (state == 'Z' || state == 'X') return false;
  return start == 0 || s == start;
}

ContainerStatus live_status(const StateDir& dir, const ContainerState& st, bool frozen) {
  if (!process_alive(st.pid, st.pid_start)) return ContainerStatus::Stopped;
  if (sys::path_exists(dir.fifo(st.id))) return ContainerStatus::Created;
  return frozen ? ContainerStatus::Paused : ContainerStatus::Running;
}

Json state_json(const ContainerState& st, ContainerStatus s) {
  Json j = {
      {"ociVersion", st.config.is_object() ? st.config.value("ociVersion", "1.0.2") : "1.0.2"},
      {"id", st.id},
      {"pid", s == ContainerStatus::Stopped ? 0 : st.pid},
      {"status", status_name(s)},
      {"bundle", st.bundle},
      {"rootfs", st.rootfs},
      {"created", st.created},
      {"owner", st.owner}};
  if (st.config.is_object() && st.config.contains("annotations"))
    j["annotations"] = st.config["annotations"];
  return j;
}

std::string now_rfc3339() {
  auto now = std::chrono::system_clock::now();
  auto secs = std::chrono::system_clock::to_time_t(now);
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count() %
            1000000000;
  std::tm tm{};
  ::gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%09lldZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<long long>(ns));
  return buf;
}

}  // namespace silo::runtime
