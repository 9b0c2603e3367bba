// images, image ls|inspect|rm|tag|history, rmi, tag, history: as the docker CLI prints them.
#include <time.h>

#include <iostream>

#include "cli/commands.h"
#include "cli/format.h"

namespace silo::cli {
namespace {

int64_t now_unix() {
  return static_cast<int64_t>(::time(nullptr));
}

std::string short_image_id(const std::string& id, bool trunc) {
  std::string hex = id.starts_with("sha256:") ? id.substr(7) : id;
  return trunc ? hex.substr(0, 12) : id;
}

// One row per repo:tag (an untagged image is one <none>:<none> row), as docker images.
std::vector<Json> image_rows(const Json& list, bool trunc, bool digests) {
  std::vector<Json> rows;
  for (const auto& img : list) {
    Json tags = img.value("RepoTags", Json::array());
    if (!tags.is_array() || tags.empty()) tags = Json::array({"<none>:<none>"});
    for (const auto& t : tags) {
      std::string s = t.get<std::string>();
      auto colon = s.rfind(':');
      std::string repo = s.substr(0, colon), tag = s.substr(colon + 1);
      std::string digest = "<none>";
      for (const auto& d : img.value("RepoDigests", Json::array()))
        if (d.get<std::string>().starts_with(repo + "@"))
          digest = d.get<std::string>().substr(repo.size() + 1);
      int64_t created = img.value("Created", int64_t{0});
      rows.push_back({{"Repository", repo},
                      {"Tag", tag},
                      {"Digest", digest},
                      {"ID", short_image_id(img.value("Id", ""), trunc)},
                      {"CreatedSince", human_duration(now_unix() - created) + " ago"},
                      {"CreatedAt", go_time(created)},
                      {"Size", human_size(static_cast<double>(img.value("Size", int64_t{0})))}});
    }
  }
  (void)digests;
  return rows;
}

int images_ls(Client& c, const Args& a) {
  static const std::vector<FlagSpec> specs = {{"a,all"},    {"q,quiet"},        {"digests"},
                                              {"no-trunc"}, {"f,filter", true}, {"format", true}};
  auto p = parse_or_usage("images", specs, a);
  if (!p) return 125;
  std::vector<std::string> filters = p->all("filter");
  if (!p->args.empty()) filters.push_back("reference=" + p->args[0]);
  auto r = c.call("GET", "/images/json" + query({{"all", p->on("all") ? "1" : ""},
                                                 {"filters", filters_json(filters)}}));
  if (!r) return print_error(r.error());
  auto j = parse_json(r->body, "image list");
  if (!j) return print_error(j.error());
  auto rows = image_rows(*j, !p->on("no-trunc"), p->on("digests"));
  std::string def =
      p->on("quiet") ? "{{.ID}}"
      : p->on("digests")
          ? "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
          : "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}";
  static const Json headers = {{"Repository", "REPOSITORY"},
                               {"Tag", "TAG"},
                               {"Digest", "DIGEST"},
                               {"ID", "IMAGE ID"},
                               {"CreatedSince", "CREATED"},
                               {"CreatedAt", "CREATED AT"},
                               {"Size", "SIZE"}};
  if (p->on("quiet")) {
    // docker images -q: each image once.
    std::vector<Json> once;
    for (const auto& row : rows)
      if (once.empty() || once.back()["ID"] != row["ID"]) once.push_back(row);
    rows = once;
  }
  auto s = render_rows(p->get("format"), def, rows, headers);
  if (!s) return print_error(s.error());
  std::cout << *s;
  return 0;
}

int images_rm(Client& c, const Args& a, const std::string& cmd) {
  auto p = parse_or_usage(cmd, {{"f,force"}, {"no-prune"}}, a);
  if (!p) return 125;
  if (!need_args(cmd, *p, 1, "[OPTIONS] IMAGE [IMAGE...]")) return 1;
  int rc = 0;
  for (const auto& n : p->args) {
    auto r = c.call("DELETE", "/images/" + url_encode(n) +
                                  query({{"force", p->on("force") ? "1" : ""},
                                         {"noprune", p->on("no-prune") ? "1" : ""}}));
    if (!r) {
      rc = print_error(r.error());
      continue;
    }
    auto j = parse_json(r->body, "image delete");
    if (!j) {
      rc = print_error(j.error());
      continue;
    }
    for (const auto& e : *j) {
      if (e.contains("Untagged")) std::cout << "Untagged: " << e.value("Untagged", "") << "\n";
      if (e.contains("Deleted")) std::cout << "Deleted: " << e.value("Deleted", "") << "\n";
    }
  }
  return rc;
}

int images_tag(Client& c, const Args& a, const std::string& cmd) {
  auto p = parse_or_usage(cmd, {}, a);
  if (!p) return 125;
  if (p->args.size() != 2) {
    std::cerr << "\"silo " << cmd << "\" requires exactly 2 arguments.\nSee 'silo " << cmd
              << " --help'.\n\nUsage:  silo " << cmd << " SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]\n";
    return 1;
  }
  auto [repo, tag] = split_repo_tag(p->args[1]);
  auto r = c.call(
      "POST", "/images/" + url_encode(p->args[0]) + "/tag" + query({{"repo", repo}, {"tag", tag}}));
  return r ? 0 : print_error(r.error());
}

int images_history(Client& c, const Args& a, const std::string& cmd) {
  auto p = parse_or_usage(cmd, {{"H,human"}, {"no-trunc"}, {"q,quiet"}, {"format", true}}, a);
  if (!p) return 125;
  if (!need_args(cmd, *p, 1, "[OPTIONS] IMAGE")) return 1;
  auto r = c.call("GET", "/images/" + url_encode(p->args[0]) + "/history");
  if (!r) return print_error(r.error());
  auto j = parse_json(r->body, "image history");
  if (!j) return print_error(j.error());
  bool trunc = !p->on("no-trunc");
  std::vector<Json> rows;
  for (const auto& h : *j) {
    std::string id = h.value("Id", "");
    std::string by = h.value("CreatedBy", "");
    rows.push_back(
        {{"ID", id == "<missing>" ? id : short_image_id(id, trunc)},
         {"CreatedSince", human_duration(now_unix() - h.value("Created", int64_t{0})) + " ago"},
         {"CreatedBy", trunc ? ellipsis(by, 45) : by},
         {"Size", human_size(static_cast<double>(h.value("Size", int64_t{0})))},
         {"Comment", h.value("Comment", "")}});
  }
  std::string def = p->on("quiet") ? "{{.ID}}"
                                   : "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}"
                                     "\t{{.Comment}}";
  static const Json headers = {{"ID", "IMAGE"},
                               {"CreatedSince", "CREATED"},
                               {"CreatedBy", "CREATED BY"},
                               {"Size", "SIZE"},
                               {"Comment", "COMMENT"}};
  auto s = render_rows(p->get("format"), def, rows, headers);
  if (!s) return print_error(s.error());
  std::cout << *s;
  return 0;
}

int images_inspect(Client& c, const Args& a) {
  auto p = parse_or_usage("image inspect", {{"f,format", true}}, a);
  if (!p) return 125;
  if (!need_args("image inspect", *p, 1, "[OPTIONS] IMAGE [IMAGE...]")) return 1;
  Json all = Json::array();
  int rc = 0;
  for (const auto& n : p->args) {
    auto r = c.call("GET", "/images/" + url_encode(n) + "/json");
    if (!r) {
      std::cerr << "Error: No such image: " << n << "\n";
      rc = 1;
      continue;
    }
    auto j = parse_json(r->body, "image inspect");
    if (!j) return print_error(j.error());
    if (p->has("format")) {
      if (auto s = print_formatted(p->get("format"), *j); !s) return print_error(s.error());
    } else {
      all.push_back(*j);
    }
  }
  if (!p->has("format")) std::cout << all.dump(4) << "\n";
  return rc;
}

}  // namespace

Result<double> prune_images(Client& c, bool all, const std::vector<std::string>& filters) {
  std::vector<std::string> f = filters;
  if (all) f.push_back("dangling=false");
  auto r = c.call("POST", "/images/prune" + query({{"filters", filters_json(f)}}));
  if (!r) return std::unexpected(r.error());
  auto j = parse_json(r->body, "image prune report");
  if (!j) return std::unexpected(j.error());
  auto del = j->value("ImagesDeleted", Json::array());
  if (del.is_array() && !del.empty()) {
    std::cout << "Deleted Images:\n";
    for (const auto& e : del) {
      if (e.contains("Untagged")) std::cout << "untagged: " << e.value("Untagged", "") << "\n";
      if (e.contains("Deleted")) std::cout << "deleted: " << e.value("Deleted", "") << "\n";
    }
    std::cout << "\n";
  }
  return static_cast<double>(j->value("SpaceReclaimed", int64_t{0}));
}

namespace {

int images_prune(Client& c, const Args& a) {
  auto p = parse_or_usage("image prune", {{"a,all"}, {"f,force"}, {"filter", true}}, a);
  if (!p) return 125;
  if (!p->on("force")) {
    std::cout << (p->on("all") ? "WARNING! This will remove all images without at least one "
                                 "container associated to them."
                               : "WARNING! This will remove all dangling images.")
              << "\nAre you sure you want to continue? [y/N] " << std::flush;
    std::string answer;
    std::getline(std::cin, answer);
    if (answer != "y" && answer != "Y") return 0;
  }
  auto reclaimed = prune_images(c, p->on("all"), p->all("filter"));
  if (!reclaimed) return print_error(reclaimed.error());
  std::cout << "Total reclaimed space: " << human_size(*reclaimed) << "\n";
  return 0;
}

}  // namespace

int cmd_images(Client& c, const Args& a) {
  return images_ls(c, a);
}
int cmd_rmi(Client& c, const Args& a) {
  return images_rm(c, a, "rmi");
}
int cmd_tag(Client& c, const Args& a) {
  return images_tag(c, a, "tag");
}
int cmd_history(Client& c, const Args& a) {
  return images_history(c, a, "history");
}

int cmd_image(Client& c, const Args& a) {
  if (a.empty()) {
    std::cerr << "Usage:  silo image COMMAND\n\nCommands:\n  ls  inspect  rm  tag  history  "
                 "prune  import  load  save\n";
    return 1;
  }
  Args rest(a.begin() + 1, a.end());
  const std::string& sub = a[0];
  if (sub == "ls" || sub == "list") return images_ls(c, rest);
  if (sub == "inspect") return images_inspect(c, rest);
  if (sub == "rm" || sub == "remove") return images_rm(c, rest, "image rm");
  if (sub == "tag") return images_tag(c, rest, "image tag");
  if (sub == "history") return images_history(c, rest, "image history");
  if (sub == "prune") return images_prune(c, rest);
  if (sub == "import") return cmd_import(c, rest);
  if (sub == "load") return cmd_load(c, rest);
  if (sub == "save") return cmd_save(c, rest);
  if (sub == "build") return cmd_build(c, rest);
  std::cerr << "silo: 'image " << sub << "' is not a silo command.\nSee 'silo image --help'\n";
  return 1;
}

}  // namespace silo::cli
