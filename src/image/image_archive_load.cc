// docker load: read the whole archive into a spool directory first (docker save writes
// manifest.json after the layers, so nothing can be placed before the end), check every
// file against the archive's metadata, and only then copy the blobs into the store.

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <map>
#include <variant>

#include "common/guards.h"
#include "common/json.h"
#include "common/sha256.h"
#include "common/sys.h"
#include "image/archive_io.h"
#include "image/config.h"
#include "image/image_archive.h"

namespace silo::image {

namespace mt = media_type;
using detail::fd_reader;

namespace {

constexpr size_t kChunk = 64 * 1024;
constexpr uint64_t kMaxJson = 8u << 20;
constexpr int kMaxIndexDepth = 4;
constexpr int kMaxLinkHops = 8;
// Where Docker (and containerd) put an image's full name in an OCI index.
constexpr std::string_view kContainerdName = "io.containerd.image.name";
constexpr std::string_view kOciRefName = "org.opencontainers.image.ref.name";

std::unexpected<Error> bad(const std::string& file, const std::string& what) {
  return fail(Code::Invalid, "load: " + file + ": " + what);
}

// "./a//b/" -> "a/b". Archive names are only keys here (no file is created under its name),
// but a ".." that climbs out of the archive is refused as Docker's loader does.
Result<std::string> clean_name(std::string_view name) {
  auto cleaned = detail::clean_relative(name);
  if (!cleaned) return bad(std::string(name), "path leaves the archive");
  return *cleaned;
}

struct SpoolFile {
  std::string path;  // in the spool directory
  Digest digest;
  uint64_t size = 0;
};

// The archive's regular files, spooled to numbered files, and its links (symlinks and hard
// links; docker save links a layer.tar that two images share).
class Spool {
 public:
  Status init(const std::string& parent) {
    auto dir = ScratchDir::make(parent, "silo-load");
    if (!dir) return wrap(dir.error(), "load: spool directory");
    dir_ = std::move(*dir);
    return {};
  }

  Status read_tar(const ReadFn& src);

  Result<const SpoolFile*> find(const std::string& name) const {
    auto cleaned = clean_name(name);
    if (!cleaned) return std::unexpected(cleaned.error());
    std::string key = *cleaned;
    for (int hop = 0; hop <= kMaxLinkHops; ++hop) {
      if (auto f = files_.find(key); f != files_.end()) return &f->second;
      auto l = links_.find(key);
      if (l == links_.end()) return bad(name, "not in the archive");
      key = l->second;
    }
    return bad(name, "too many levels of links");
  }

  Result<std::string> read(const std::string& name) const {
    auto f = find(name);
    if (!f) return std::unexpected(f.error());
    if ((*f)->size > kMaxJson)
      return bad(name, "is " + std::to_string((*f)->size) + " bytes; metadata files are at most " +
                           std::to_string(kMaxJson));
    std::string out;
    auto fd = open(**f);
    if (!fd) return std::unexpected(fd.error());
    out.resize((*f)->size);
    size_t done = 0;
    auto reader = fd_reader(fd->get(), "spooled " + name);
    while (done < out.size()) {
      auto n = reader(out.data() + done, out.size() - done);
      if (!n) return std::unexpected(n.error());
      if (*n == 0) return fail(Code::Internal, "load: spooled " + name + " shrank");
      done += *n;
    }
    return out;
  }

  Result<UniqueFd> open(const SpoolFile& f) const {
    int fd = ::open(f.path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return fail_errno(errno, "load: open spooled file " + f.path);
    return UniqueFd(fd);
  }

  bool has(const std::string& name) const { return files_.count(name) || links_.count(name); }

 private:
  Status entry(archive* a, archive_entry* e);
  Status spool_file(archive* a, const std::string& name);

  ScratchDir dir_;
  std::map<std::string, SpoolFile> files_;
  std::map<std::string, std::string> links_;
};

Status Spool::read_tar(const ReadFn& src) {
  std::unique_ptr<archive, int (*)(archive*)> a(archive_read_new(), archive_read_free);
  archive_read_support_filter_all(a.get());
  archive_read_support_format_tar(a.get());
  detail::ArchiveSource s{.src = &src};
  auto broken = [&]() -> std::unexpected<Error> {
    if (s.error) return wrap(*s.error, "load");
    const char* m = archive_error_string(a.get());
    return fail(Code::Invalid, std::string("load: ") + (m ? m : "unreadable archive") +
                                   "; expected a tar (plain or gzip) written by docker save or "
                                   "an OCI image layout");
  };
  if (archive_read_open(a.get(), &s, nullptr, detail::ArchiveSource::read, nullptr) != ARCHIVE_OK)
    return broken();
  archive_entry* e;
  int r;
  while ((r = archive_read_next_header(a.get(), &e)) != ARCHIVE_EOF) {
    if (r < ARCHIVE_WARN) return broken();
    SILO_TRY(entry(a.get(), e));
  }
  return {};
}

Status Spool::entry(archive* a, archive_entry* e) {
  const char* raw = archive_entry_pathname(e);
  std::string shown = raw ? raw : "";
  auto name = clean_name(shown);
  if (!name) return std::unexpected(name.error());
  if (name->empty()) return {};  // "./"
  if (const char* hard = archive_entry_hardlink(e)) {
    auto target = clean_name(hard);
    if (!target) return std::unexpected(target.error());
    links_[*name] = *target;
    return {};
  }
  switch (archive_entry_filetype(e)) {
    case AE_IFDIR:
      return {};
    case AE_IFREG:
      return spool_file(a, *name);
    case AE_IFLNK: {
      std::string target = archive_entry_symlink(e) ? archive_entry_symlink(e) : "";
      if (!target.empty() && target[0] == '/')
        return bad(shown, "symlink to an absolute path (" + target + ") leaves the archive");
      auto slash = name->rfind('/');
      auto resolved =
          clean_name((slash == std::string::npos ? "" : name->substr(0, slash + 1)) + target);
      if (!resolved) return bad(shown, "symlink to " + target + " leaves the archive");
      links_[*name] = *resolved;
      return {};
    }
    default:
      return bad(shown, "a device, fifo or socket has no place in an image archive");
  }
}

Status Spool::spool_file(archive* a, const std::string& name) {
  if (files_.count(name) || links_.count(name)) return bad(name, "appears twice in the archive");
  SpoolFile f{.path = dir_.path() + "/" + std::to_string(files_.size())};
  int fd = ::open(f.path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return fail_errno(errno, "load: spool " + name + " to " + f.path);
  UniqueFd guard(fd);
  Sha256 hash;
  std::vector<char> buf(kChunk);
  while (true) {
    la_ssize_t n = archive_read_data(a, buf.data(), buf.size());
    if (n < 0) {
      const char* m = archive_error_string(a);
      return bad(name, std::string("cannot read it: ") + (m ? m : "truncated archive"));
    }
    if (n == 0) break;
    std::string_view chunk(buf.data(), static_cast<size_t>(n));
    hash.update(chunk);
    f.size += chunk.size();
    if (auto w = sys::write_all(fd, chunk.data(), chunk.size()); !w)
      return wrap(w.error(), "load: spool " + name);
  }
  f.digest = Digest::sha256(hash.hex_digest());
  files_.emplace(name, std::move(f));
  return {};
}

// ---- parsing the archive's metadata ---------------------------------------------------------

// What load will copy into the store: (digest, size, spool file) triples, and made-up blobs.
struct Plan {
  LoadResult result;
  std::vector<std::pair<const SpoolFile*, std::string>> blobs;  // file, its name for messages
};

Result<std::vector<Reference>> parse_tags(const std::vector<std::string>& tags,
                                          const std::string& where) {
  std::vector<Reference> out;
  for (const auto& t : tags) {
    auto r = parse_reference(t);
    if (!r) return bad(where, "repo tag \"" + t + "\": " + r.error().message);
    if (r->tag.empty()) return bad(where, "repo tag \"" + t + "\" has no tag; expected name:tag");
    out.push_back(std::move(*r));
  }
  return out;
}

// The diff_id of a docker-archive layer: its own digest when it is a plain tar, else the
// digest of what it decompresses to (docker load accepts gzip layers as well).
Result<std::pair<Digest, std::string>> layer_identity(const Spool& spool, const SpoolFile& f,
                                                      const std::string& name) {
  auto fd = spool.open(f);
  if (!fd) return std::unexpected(fd.error());
  unsigned char magic[2] = {0, 0};
  ssize_t n = ::pread(fd->get(), magic, sizeof magic, 0);
  if (n == 2 && magic[0] == 0x1f && magic[1] == 0x8b) {
    auto plain = detail::decompress(fd_reader(fd->get(), name), nullptr, "load: " + name);
    if (!plain) return std::unexpected(plain.error());
    return std::pair{plain->digest, std::string(mt::kDockerLayer)};
  }
  return std::pair{f.digest, std::string(mt::kDockerLayerTar)};
}

Result<ArchiveImage> plan_docker_image(const Spool& spool, const DockerArchiveEntry& entry,
                                       const std::string& where, Plan& plan) {
  auto config_file = spool.find(entry.config);
  if (!config_file) return wrap(config_file.error(), where + ".Config");
  auto body = spool.read(entry.config);
  if (!body) return std::unexpected(body.error());
  auto config = parse_image_config(*body);
  if (!config) return bad(entry.config, config.error().message);
  if (config->diff_ids.size() != entry.layers.size())
    return bad(where, "lists " + std::to_string(entry.layers.size()) + " layers but its config " +
                          entry.config + " has " + std::to_string(config->diff_ids.size()) +
                          " rootfs.diff_ids; the archive is corrupt, save the image again");
  ArchiveImage img{.config_digest = (*config_file)->digest, .diff_ids = config->diff_ids};
  plan.blobs.emplace_back(*config_file, entry.config);
  for (size_t i = 0; i < entry.layers.size(); ++i) {
    const std::string& name = entry.layers[i];
    auto file = spool.find(name);
    if (!file) return wrap(file.error(), where + ".Layers[" + std::to_string(i) + "]");
    auto id = layer_identity(spool, **file, name);
    if (!id) return std::unexpected(id.error());
    if (id->first != config->diff_ids[i])
      return bad(name, "layer " + std::to_string(i) + " of image " + img.config_digest.short_str() +
                           " has diff_id " + id->first.str() + " but its config " + entry.config +
                           " says rootfs.diff_ids[" + std::to_string(i) +
                           "] = " + config->diff_ids[i].str() +
                           "; the archive is corrupt, save the image again");
    img.layers.push_back(Descriptor{.media_type = id->second,
                                    .digest = (*file)->digest,
                                    .size = static_cast<int64_t>((*file)->size)});
    plan.blobs.emplace_back(*file, name);
  }
  auto tags = parse_tags(entry.repo_tags, where + ".RepoTags");
  if (!tags) return std::unexpected(tags.error());
  img.repo_tags = std::move(*tags);
  img.manifest = detail::docker_manifest(img.config_digest, (*config_file)->size, img.layers);
  img.manifest_digest = Digest::of(img.manifest);
  return img;
}

Result<Plan> plan_docker_archive(const Spool& spool) {
  auto body = spool.read("manifest.json");
  if (!body) return std::unexpected(body.error());
  auto entries = parse_docker_archive_manifest(*body);
  if (!entries) return wrap(entries.error(), "load");
  Plan plan{.result = {.format = ArchiveFormat::DockerArchive}};
  for (size_t i = 0; i < entries->size(); ++i) {
    auto img =
        plan_docker_image(spool, (*entries)[i], "manifest.json[" + std::to_string(i) + "]", plan);
    if (!img) return std::unexpected(img.error());
    plan.result.images.push_back(std::move(*img));
  }
  return plan;
}

// An OCI blob named by a descriptor: present, and of the size and digest it claims.
Result<const SpoolFile*> oci_blob(const Spool& spool, const Descriptor& d,
                                  const std::string& where) {
  std::string name = "blobs/" + d.digest.algorithm + "/" + d.digest.hex;
  auto f = spool.find(name);
  if (!f) return bad(name, "not in the archive (named by " + where + ")");
  if (d.digest.algorithm != "sha256")
    return bad(name, "digest algorithm " + d.digest.algorithm + " is not supported; use sha256");
  if ((*f)->digest != d.digest)
    return bad(name, "is corrupt: its content has digest " + (*f)->digest.str());
  if (static_cast<int64_t>((*f)->size) != d.size)
    return bad(name, "is " + std::to_string((*f)->size) + " bytes but " + where + " says " +
                         std::to_string(d.size));
  return *f;
}

// The tags an index entry gives: Docker's full name, else a ref.name that is a reference.
Result<std::vector<Reference>> oci_tags(const Descriptor& d, const std::string& where) {
  std::vector<std::string> names;
  if (auto it = d.annotations.find(std::string(kContainerdName)); it != d.annotations.end())
    names.push_back(it->second);
  else if (auto rn = d.annotations.find(std::string(kOciRefName));
           rn != d.annotations.end() && rn->second.find_first_of("/:") != std::string::npos)
    names.push_back(rn->second);
  return parse_tags(names, where);
}

class OciPlanner {
 public:
  OciPlanner(const Spool& spool, Plan& plan) : spool_(spool), plan_(plan) {}

  Status entry(const Descriptor& d, const std::string& where, std::vector<Reference> tags,
               int depth) {
    if (depth > kMaxIndexDepth)
      return bad(where, "indexes nested deeper than " + std::to_string(kMaxIndexDepth));
    auto file = oci_blob(spool_, d, where);
    if (!file) return std::unexpected(file.error());
    std::string name = "blobs/sha256/" + d.digest.hex;
    auto body = spool_.read(name);
    if (!body) return std::unexpected(body.error());
    auto any = parse_manifest(*body, d.media_type);
    if (!any) return bad(name, any.error().message);
    if (auto* idx = std::get_if<Index>(&*any)) {
      Result<Descriptor> next = idx->manifests.size() == 1 ? Result<Descriptor>(idx->manifests[0])
                                                           : select_manifest(*idx);
      if (!next) return bad(name, next.error().message);
      return entry(*next, name, std::move(tags), depth + 1);
    }
    return image(std::get<Manifest>(*any), *file, std::move(*body), std::move(tags));
  }

 private:
  Status image(const Manifest& m, const SpoolFile* manifest_file, std::string body,
               std::vector<Reference> tags) {
    for (auto& img : plan_.result.images) {
      if (img.manifest_digest != manifest_file->digest) continue;
      for (auto& t : tags) img.repo_tags.push_back(std::move(t));
      return {};
    }
    std::string name = "blobs/sha256/" + manifest_file->digest.hex;
    auto config_file = oci_blob(spool_, m.config, name + " config");
    if (!config_file) return std::unexpected(config_file.error());
    auto config_body = spool_.read("blobs/sha256/" + m.config.digest.hex);
    if (!config_body) return std::unexpected(config_body.error());
    auto config = parse_image_config(*config_body);
    if (!config) return bad("blobs/sha256/" + m.config.digest.hex, config.error().message);
    if (auto s = check_layers_match(m, *config); !s) return bad(name, s.error().message);
    plan_.blobs.emplace_back(*config_file, "config " + m.config.digest.str());
    for (size_t i = 0; i < m.layers.size(); ++i) {
      auto layer = oci_blob(spool_, m.layers[i], name + " layers[" + std::to_string(i) + "]");
      if (!layer) return std::unexpected(layer.error());
      plan_.blobs.emplace_back(*layer, "layer " + m.layers[i].digest.str());
    }
    plan_.blobs.emplace_back(manifest_file, name);
    plan_.result.images.push_back(ArchiveImage{.config_digest = m.config.digest,
                                               .manifest = std::move(body),
                                               .manifest_digest = manifest_file->digest,
                                               .layers = m.layers,
                                               .diff_ids = config->diff_ids,
                                               .repo_tags = std::move(tags)});
    return {};
  }

  const Spool& spool_;
  Plan& plan_;
};

Result<Plan> plan_oci_layout(const Spool& spool) {
  auto layout = spool.read("oci-layout");
  if (!layout) return wrap(layout.error(), "an OCI image layout needs its oci-layout file");
  auto lj = parse_json(*layout, "oci-layout");
  std::string version;
  if (!lj || !lj->is_object() || !get_opt(*lj, "imageLayoutVersion", version, "oci-layout") ||
      version != "1.0.0")
    return bad("oci-layout", "expected {\"imageLayoutVersion\": \"1.0.0\"}");
  auto body = spool.read("index.json");
  if (!body) return std::unexpected(body.error());
  auto index = parse_oci_index(*body, "index.json");
  if (!index) return wrap(index.error(), "load");
  Plan plan{.result = {.format = ArchiveFormat::OciLayout}};
  OciPlanner planner(spool, plan);
  for (size_t i = 0; i < index->manifests.size(); ++i) {
    std::string where = "index.json manifests[" + std::to_string(i) + "]";
    auto tags = oci_tags(index->manifests[i], where);
    if (!tags) return std::unexpected(tags.error());
    SILO_TRY(planner.entry(index->manifests[i], where, std::move(*tags), 0));
  }
  return plan;
}

Status copy_blobs(const Spool& spool, const Plan& plan, BlobStore& store) {
  for (const auto& [file, name] : plan.blobs) {
    if (store.exists(file->digest)) continue;
    auto fd = spool.open(*file);
    if (!fd) return std::unexpected(fd.error());
    SILO_TRY_CTX(store.write(file->digest, file->size, fd_reader(fd->get(), name)),
                 "load: store " + name);
  }
  return {};
}

}  // namespace

Result<std::vector<DockerArchiveEntry>> parse_docker_archive_manifest(std::string_view body) {
  auto j = parse_json(body, "manifest.json");
  if (!j) return std::unexpected(j.error());
  if (!j->is_array())
    return fail(Code::Invalid,
                "manifest.json: expected an array of images, got " + std::string(j->type_name()));
  std::vector<DockerArchiveEntry> out;
  for (size_t i = 0; i < j->size(); ++i) {
    std::string where = "manifest.json[" + std::to_string(i) + "]";
    const Json& item = (*j)[i];
    if (!item.is_object()) return fail(Code::Invalid, where + ": expected an object");
    DockerArchiveEntry e;
    SILO_TRY(get_opt(item, "Config", e.config, where));
    SILO_TRY(get_opt(item, "RepoTags", e.repo_tags, where));
    SILO_TRY(get_opt(item, "Layers", e.layers, where));
    if (e.config.empty()) return fail(Code::Invalid, where + ".Config: missing");
    if (!item.contains("Layers")) return fail(Code::Invalid, where + ".Layers: missing");
    out.push_back(std::move(e));
  }
  return out;
}

Result<Index> parse_oci_index(std::string_view body, std::string_view what) {
  auto any = parse_manifest(body);
  if (!any) return wrap(any.error(), what);
  if (auto* idx = std::get_if<Index>(&*any)) return std::move(*idx);
  return fail(Code::Invalid,
              std::string(what) + ": expected an image index, got an image manifest");
}

Result<LoadResult> load_archive(const ReadFn& src, BlobStore& store, const LoadOptions& options) {
  Spool spool;
  SILO_TRY(spool.init(options.spool_dir));
  SILO_TRY(spool.read_tar(src));
  Result<Plan> plan = fail(Code::Invalid, "");
  if (spool.has("manifest.json"))
    plan = plan_docker_archive(spool);
  else if (spool.has("index.json") || spool.has("oci-layout"))
    plan = plan_oci_layout(spool);
  else if (spool.has("repositories"))
    return fail(Code::Invalid,
                "load: the archive has a repositories file but no manifest.json: it is a "
                "pre-1.10 Docker archive, which Silo cannot load; save it again with Docker "
                ">= 1.10");
  else
    return fail(Code::Invalid,
                "load: the archive has neither manifest.json (docker save) nor index.json (OCI "
                "image layout); it is not an image archive");
  if (!plan) return std::unexpected(plan.error());
  SILO_TRY(copy_blobs(spool, *plan, store));
  for (const auto& img : plan->result.images)
    SILO_TRY_CTX(store.write(img.manifest_digest, img.manifest), "load: store manifest");
  return std::move(plan->result);
}

}  // namespace silo::image
