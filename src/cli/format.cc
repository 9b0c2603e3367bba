#include "cli/format.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <map>
#include <sstream>

#include "cli/gotemplate.h"

namespace silo::cli {
namespace {

std::string plural(int64_t n, const char* unit) {
  return std::to_string(n) + " " + unit + (n == 1 ? "" : "s");
}

std::string g4(double v, const char* unit) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.4g%s", v, unit);
  return buf;
}

size_t utf8_len(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++n;
  return n;
}

}  // namespace

std::string human_duration(int64_t seconds) {
  if (seconds < 1) return "Less than a second";
  if (seconds == 1) return "1 second";
  if (seconds < 60) return plural(seconds, "second");
  int64_t minutes = seconds / 60;
  if (minutes == 1) return "About a minute";
  if (minutes < 60) return plural(minutes, "minute");
  int64_t hours = static_cast<int64_t>(std::llround(seconds / 3600.0));
  if (hours == 1) return "About an hour";
  if (hours < 48) return plural(hours, "hour");
  if (hours < 24 * 7 * 2) return plural(hours / 24, "day");
  if (hours < 24 * 30 * 2) return plural(hours / 24 / 7, "week");
  if (hours < 24 * 365 * 2) return plural(hours / 24 / 30, "month");
  return plural(static_cast<int64_t>(seconds / 3600.0 / 24 / 365), "year");
}

std::string human_size(double bytes) {
  static const char* units[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"};
  int i = 0;
  while (bytes >= 1000 && i < 8) {
    bytes /= 1000;
    ++i;
  }
  return g4(bytes, units[i]);
}

std::string bytes_size(double bytes) {
  static const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"};
  int i = 0;
  while (bytes >= 1024 && i < 8) {
    bytes /= 1024;
    ++i;
  }
  return g4(bytes, units[i]);
}

std::string ellipsis(const std::string& s, size_t max) {
  if (utf8_len(s) <= max) return s;
  std::string out;
  size_t n = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if ((c & 0xC0) != 0x80) {
      if (n + 1 == max) break;
      ++n;
    }
    out += s[i];
  }
  return max == 0 ? "" : out + "\xE2\x80\xA6";
}

std::string go_time(int64_t unix_seconds) {
  time_t t = static_cast<time_t>(unix_seconds);
  struct tm tm {};
  localtime_r(&t, &tm);
  char buf[96];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S %z %Z", &tm);
  return buf;
}

std::string tabwrite(const std::string& text) {
  std::vector<std::vector<std::string>> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> cells;
    size_t start = 0;
    while (true) {
      auto tab = line.find('\t', start);
      cells.push_back(
          line.substr(start, tab == std::string::npos ? std::string::npos : tab - start));
      if (tab == std::string::npos) break;
      start = tab + 1;
    }
    lines.push_back(std::move(cells));
  }
  // Go's tabwriter aligns a column over a block of consecutive lines that have it; ps
  // tables have the same column count on every line, so one width per column suffices.
  std::vector<size_t> width;
  for (const auto& cells : lines)
    for (size_t i = 0; i + 1 < cells.size(); ++i) {
      if (width.size() <= i) width.resize(i + 1, 0);
      width[i] = std::max(width[i], std::max<size_t>(utf8_len(cells[i]) + 3, 10));
    }
  std::string out;
  for (const auto& cells : lines) {
    std::string l;
    for (size_t i = 0; i < cells.size(); ++i) {
      l += cells[i];
      if (i + 1 < cells.size()) l += std::string(width[i] - utf8_len(cells[i]), ' ');
    }
    out += l + "\n";
  }
  return out;
}

Result<std::string> render_rows(const std::string& format, const std::string& def,
                                const std::vector<Json>& rows, const Json& headers) {
  std::string f = format.empty() ? def : format;
  bool table = false;
  if (f.starts_with("table")) {
    table = true;
    f = f.substr(5);
    while (!f.empty() && (f[0] == ' ')) f.erase(0, 1);
  }
  if (f == "json" || f == "{{json .}}") f = "{{json .}}";
  // Go templates print "\t" literally from the text; docker turns the two-character
  // escape "\t" typed on a shell command line into a tab as well.
  for (size_t p; (p = f.find("\\t")) != std::string::npos;) f.replace(p, 2, "\t");
  for (size_t p; (p = f.find("\\n")) != std::string::npos;) f.replace(p, 2, "\n");
  auto t = Template::parse(f);
  if (!t) return std::unexpected(t.error());
  std::string out;
  if (table) {
    auto h = t->execute(headers);
    if (!h) return std::unexpected(h.error());
    out += *h + "\n";
  }
  for (const auto& r : rows) {
    auto s = t->execute(r);
    if (!s) return std::unexpected(s.error());
    out += *s + "\n";
  }
  return table ? tabwrite(out) : out;
}

std::string format_ports(const Json& ports) {
  if (!ports.is_array()) return "";
  std::vector<std::string> out;
  for (const auto& p : ports) {
    std::string proto = p.value("Type", "tcp");
    std::string priv = std::to_string(p.value("PrivatePort", 0)) + "/" + proto;
    if (p.contains("PublicPort") && p["PublicPort"].is_number() &&
        p["PublicPort"].get<int>() != 0) {
      std::string ip = p.value("IP", "");
      std::string host = ip.find(':') != std::string::npos ? "[" + ip + "]" : ip;
      out.push_back(host + ":" + std::to_string(p["PublicPort"].get<int>()) + "->" + priv);
    } else {
      out.push_back(priv);
    }
  }
  std::string s;
  for (size_t i = 0; i < out.size(); ++i) s += (i ? ", " : "") + out[i];
  return s;
}

const Json& ps_headers() {
  static const Json h = {
      {"ID", "CONTAINER ID"},      {"Image", "IMAGE"},        {"Command", "COMMAND"},
      {"CreatedAt", "CREATED AT"}, {"RunningFor", "CREATED"}, {"Ports", "PORTS"},
      {"Status", "STATUS"},        {"Size", "SIZE"},          {"Names", "NAMES"},
      {"Labels", "LABELS"},        {"Label", Json::object()}, {"Mounts", "MOUNTS"},
      {"Networks", "NETWORKS"},    {"State", "STATE"},        {"LocalVolumes", "LOCAL VOLUMES"}};
  return h;
}

Json ps_row(const Json& c, bool trunc, int64_t now) {
  Json r = Json::object();
  std::string id = c.value("Id", "");
  r["ID"] = trunc ? id.substr(0, 12) : id;
  r["Image"] = c.value("Image", "");
  std::string cmd = c.value("Command", "");
  r["Command"] = go_quote(trunc ? ellipsis(cmd, 20) : cmd);
  int64_t created = c.value("Created", int64_t{0});
  r["CreatedAt"] = go_time(created);
  r["RunningFor"] = human_duration(now - created) + " ago";
  r["Ports"] = format_ports(c.value("Ports", Json::array()));
  r["Status"] = c.value("Status", "");
  r["State"] = c.value("State", "");
  std::string names;
  for (const auto& n : c.value("Names", Json::array())) {
    std::string s = n.get<std::string>();
    if (s.starts_with("/")) s = s.substr(1);
    // Links ("/other/alias") are hidden as docker ps hides them.
    if (s.find('/') != std::string::npos) continue;
    names += (names.empty() ? "" : ",") + s;
  }
  r["Names"] = names;
  Json labels = c.value("Labels", Json::object());
  if (!labels.is_object()) labels = Json::object();
  std::string ls;
  for (auto it = labels.begin(); it != labels.end(); ++it)
    ls += (ls.empty() ? "" : ",") + it.key() + "=" + it.value().get<std::string>();
  r["Labels"] = ls;
  r["Label"] = labels;
  std::string mounts;
  int local_volumes = 0;
  for (const auto& m : c.value("Mounts", Json::array())) {
    std::string name = m.value("Name", "");
    if (m.value("Driver", "") == "local") ++local_volumes;
    if (name.empty()) name = m.value("Source", "");
    if (trunc) name = ellipsis(name, 15);
    mounts += (mounts.empty() ? "" : ",") + name;
  }
  r["Mounts"] = mounts;
  r["LocalVolumes"] = std::to_string(local_volumes);
  std::string nets;
  auto ns = c.value("NetworkSettings", Json::object());
  if (ns.is_object() && ns.contains("Networks") && ns["Networks"].is_object())
    for (auto it = ns["Networks"].begin(); it != ns["Networks"].end(); ++it)
      nets += (nets.empty() ? "" : ",") + it.key();
  r["Networks"] = nets;
  int64_t rw = c.value("SizeRw", int64_t{0}), rootfs = c.value("SizeRootFs", int64_t{0});
  r["Size"] = human_size(static_cast<double>(rw)) +
              (rootfs > 0 ? " (virtual " + human_size(static_cast<double>(rootfs)) + ")" : "");
  return r;
}

}  // namespace silo::cli
