#include "daemon/build.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>

#include "common/guards.h"
#include "common/log.h"
#include "common/sys.h"
#include "daemon/io_logs.h"
#include "daemon/registry_progress.h"
#include "engine/archive.h"
#include "engine/images.h"
#include "image/build_args.h"
#include "image/build_cache.h"
#include "image/build_copy.h"
#include "image/reference.h"

namespace silo::daemon {
namespace {

using image::Instruction;
using image::Keyword;

// Go's os.ModeDir in a PathStat's mode.
constexpr uint32_t kGoModeDir = 1u << 31;

std::string join(const std::vector<std::string>& v, std::string_view sep = " ") {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : std::string(sep)) + s;
  return out;
}

// Stage names compare case-insensitively, as Docker's do.
std::string lower_case(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  return s;
}

// "Step 2/5 : RUN echo hi": the instruction as written, its keyword upper-cased.
std::string step_text(const Instruction& ins) {
  std::string text = ins.original;
  size_t start = text.find_first_not_of(" \t");
  if (start == std::string::npos) return text;
  size_t end = text.find_first_of(" \t", start);
  if (end == std::string::npos) end = text.size();
  for (size_t i = start; i < end; ++i)
    text[i] = static_cast<char>(std::toupper(static_cast<unsigned char>(text[i])));
  return text.substr(start);
}

// LABEL "k"="v" ... for --label, quoted so that any text survives the parser.
std::string label_instruction(const std::map<std::string, std::string>& labels) {
  auto q = [](const std::string& s) {
    std::string out = "\"";
    for (char ch : s) {
      if (ch == '"' || ch == '\\') out += '\\';
      out += ch;
    }
    return out + "\"";
  };
  std::string text = "LABEL";
  for (const auto& [k, v] : labels) text += " " + q(k) + "=" + q(v);
  return text;
}

struct Stage {
  std::string name;      // lower-cased `AS` name
  std::string image_id;  // the image of its last step ("" = scratch with no step yet)
  image::ImageConfig config;
  bool cmd_set = false;  // a CMD ran in this stage (ENTRYPOINT then keeps Cmd)
};

class Builder {
 public:
  Builder(const Context& ctx, const image::BuildContext& bctx, const image::Dockerfile& df,
          const BuildOptions& opts, const BuildWriteFn& write, const std::function<bool()>& gone)
      : ctx_(ctx),
        bctx_(bctx),
        df_(df),
        opts_(opts),
        write_(write),
        gone_(gone),
        args_(opts.build_args) {}

  ~Builder() {
    for (const auto& id : scratch_containers_) remove_container(id, false);
  }

  Result<std::string> run() {
    for (const auto& m : df_.meta_args) SILO_TRY(args_.declare_meta(m));
    size_t last = df_.stages.size() - 1;
    if (!opts_.target.empty()) {
      const image::Stage* t = df_.find_stage(opts_.target);
      if (!t)
        return fail(Code::Invalid,
                    "failed to reach build target " + opts_.target + " in Dockerfile");
      last = t->index;
    }
    std::optional<Instruction> labels;
    if (!opts_.labels.empty()) {
      auto l = image::parse_instruction(label_instruction(opts_.labels), 0, df_.escape);
      if (!l) return wrap(l.error(), "--label");
      labels = std::move(*l);
    }
    for (size_t i = 0; i <= last; ++i)
      total_ += 1 + static_cast<int>(df_.stages[i].instructions.size());
    if (labels) ++total_;

    for (size_t i = 0; i <= last; ++i) {
      const image::Stage& st = df_.stages[i];
      Stage s{.name = st.name};
      SILO_TRY(from(st, s));
      for (const auto& ins : st.instructions) SILO_TRY(step(ins, s, true));
      if (i == last && labels) SILO_TRY(step(*labels, s, true));
      stages_.push_back(std::move(s));
    }
    const Stage& final = stages_.back();
    if (final.image_id.empty())
      return fail(Code::Invalid, "No image was generated. Is your Dockerfile empty?");
    if (auto unused = args_.unconsumed(); !unused.empty())
      out("[Warning] One or more build-args [" + join(unused) + "] were not consumed\n");
    return final.image_id;
  }

 private:
  void line(const Json& j) { write_(go_json_line(j)); }
  void out(const std::string& text) {
    if (!opts_.quiet) line({{"stream", text}});
  }
  void arrow(const std::string& id) { out(" ---> " + engine::short_image_id(id) + "\n"); }
  void begin(const Instruction& ins, bool counted) {
    if (counted)
      out("Step " + std::to_string(++step_) + "/" + std::to_string(total_) + " : " +
          step_text(ins) + "\n");
  }

  // FROM: an earlier stage, scratch, or an image (pulled when missing or with --pull).
  Status from(const image::Stage& st, Stage& s) {
    begin(st.from, true);
    args_.begin_stage();
    auto base = image::resolve_base(st, args_);
    if (!base) return std::unexpected(base.error());
    std::string b = *base;
    std::string lower = lower_case(b);
    auto earlier = std::find_if(stages_.begin(), stages_.end(),
                                [&](const Stage& e) { return !e.name.empty() && e.name == lower; });
    if (earlier != stages_.end()) {
      s.image_id = earlier->image_id;
      s.config = earlier->config;
    } else if (lower == "scratch") {
      s.config = engine::ImageService::scratch_config();
      out(" ---> \n");
      return {};
    } else {
      auto id = base_image(b);
      if (!id) return std::unexpected(id.error());
      auto cfg = ctx_.engine->image_build_config(*id);
      if (!cfg) return std::unexpected(cfg.error());
      s.image_id = *id;
      s.config = std::move(*cfg);
    }
    s.config.history.clear();
    arrow(s.image_id);
    // ONBUILD triggers of the base run first, and the child does not inherit them.
    std::vector<std::string> triggers = std::move(s.config.config.on_build);
    s.config.config.on_build.clear();
    if (!triggers.empty()) {
      out("# Executing " + std::to_string(triggers.size()) + " build trigger" +
          (triggers.size() > 1 ? "s" : "") + "\n");
      for (const auto& t : triggers) {
        auto ins = image::parse_instruction(t, st.from.line, df_.escape);
        if (!ins) return wrap(ins.error(), "ONBUILD trigger " + t);
        SILO_TRY(step(*ins, s, false));
      }
    }
    return {};
  }

  // The id of image `ref`, pulled first when it is not here (or always with --pull).
  Result<std::string> base_image(const std::string& ref) {
    if (!opts_.pull) {
      auto img = ctx_.engine->image(ref);
      if (img) return img->id;
      if (img.error().code != Code::NotFound) return std::unexpected(img.error());
    }
    auto parsed = image::parse_reference(ref);
    if (!parsed) return std::unexpected(parsed.error());
    std::string tagged = parsed->str();
    auto pulled = ctx_.engine->pull_image(tagged, "", std::nullopt,
                                          [this](const engine::RegistryProgress& p) {
                                            if (!opts_.quiet) write_(progress_line(p));
                                          });
    if (!pulled) return std::unexpected(pulled.error());
    if (!opts_.quiet) {
      line({{"status", "Digest: " + pulled->digest}});
      line({{"status", (pulled->updated ? "Status: Downloaded newer image for "
                                        : "Status: Image is up to date for ") +
                           pulled->familiar}});
    }
    return pulled->id;
  }

  Status step(const Instruction& ins, Stage& s, bool counted) {
    if (gone_()) return fail(Code::Unavailable, "the build was cancelled: the client went away");
    begin(ins, counted);
    switch (ins.keyword) {
      case Keyword::Run:
        return run_step(ins, s);
      case Keyword::Copy:
      case Keyword::Add:
        return copy_step(ins, s);
      case Keyword::Workdir:
        return workdir_step(ins, s);
      case Keyword::Arg: {
        SILO_TRY(args_.declare(ins, s.config.config.env));
        return metadata_step(ins, s);
      }
      case Keyword::From:
        return fail(Code::Invalid,
                    "Dockerfile line " + std::to_string(ins.line) + ": FROM inside a stage");
      default:
        return metadata_step(ins, s);
    }
  }

  // Reuses the image of an earlier identical step; false when there is none (or
  // --no-cache), and the caller makes the image.
  Result<bool> from_cache(const std::string& key, Stage& s, const image::ImageConfig& after) {
    if (opts_.no_cache) return false;
    auto hit = ctx_.engine->cached_build_step(key);
    if (!hit) return std::unexpected(hit.error());
    if (!*hit) return false;
    out(" ---> Using cache\n");
    s.image_id = **hit;
    s.config = after;
    arrow(s.image_id);
    return true;
  }

  Status made(const std::string& key, Stage& s, const image::ImageConfig& after,
              const std::string& id) {
    SILO_TRY(ctx_.engine->remember_build_step(key, id));
    s.image_id = id;
    s.config = after;
    arrow(id);
    return {};
  }

  Status metadata_step(const Instruction& ins, Stage& s) {
    auto after = image::apply_step(s.config, ins, args_, s.cmd_set);
    if (!after) return std::unexpected(after.error());
    auto rec = image::step_record(s.config, ins, args_);
    if (!rec) return std::unexpected(rec.error());
    if (ins.keyword == Keyword::Cmd) s.cmd_set = true;
    std::string key = image::cache_key(s.image_id, *rec, *after, ins);
    auto hit = from_cache(key, s, *after);
    if (!hit) return std::unexpected(hit.error());
    if (*hit) return {};
    auto id = ctx_.engine->build_step("", s.image_id, *after, rec->cmd);
    if (!id) return std::unexpected(id.error());
    return made(key, s, *after, *id);
  }

  // A container of image `image_id` running `cmd` (or, for COPY and WORKDIR, never started).
  Result<std::string> make_container(const Stage& s, const std::vector<std::string>& cmd,
                                     const std::vector<std::string>& extra_env) {
    if (!has_root(s))
      return fail(Code::Invalid,
                  "this step needs a file system, and a stage FROM scratch has "
                  "none until a COPY or ADD gives it one");
    std::vector<std::string> env = s.config.config.env;
    env.insert(env.end(), extra_env.begin(), extra_env.end());
    Json body{{"Image", s.image_id},
              {"Cmd", cmd},
              {"Entrypoint", Json::array({""})},
              {"Env", env},
              {"WorkingDir", s.config.config.working_dir},
              {"User", s.config.config.user},
              {"Healthcheck", {{"Test", {"NONE"}}}},
              {"HostConfig",
               {{"NetworkMode", opts_.network_mode.empty() ? "default" : opts_.network_mode}}}};
    auto c = ctx_.engine->create("", body);
    if (!c) return wrap(c.error(), "create the step's container");
    scratch_containers_.push_back(c->id);
    return c->id;
  }

  // Whether the stage's image has layers (a stage FROM scratch has none until its first
  // COPY or ADD).
  bool has_root(const Stage& s) {
    if (s.image_id.empty()) return false;
    auto img = ctx_.engine->image(s.image_id);
    return img && !img->lowers.empty();
  }

  void remove_container(const std::string& id, bool announce) {
    if (announce) out("Removing intermediate container " + id.substr(0, 12) + "\n");
    if (auto r = ctx_.engine->remove(id, true, true); !r)
      spdlog::warn("build: remove container {}: {}", id.substr(0, 12), r.error().message);
    std::erase(scratch_containers_, id);
  }

  // After a step: the container goes (with --rm), or stays for a look after a failure
  // (unless --force-rm), as dockerd does.
  void done_with(const std::string& id, bool ok) {
    if (ok ? opts_.rm : opts_.force_rm)
      remove_container(id, ok);
    else
      std::erase(scratch_containers_, id);
  }

  Status run_step(const Instruction& ins, Stage& s) {
    auto rec = image::step_record(s.config, ins, args_);
    if (!rec) return std::unexpected(rec.error());
    const image::ImageConfig& after = s.config;
    std::string key = image::cache_key(s.image_id, *rec, after, ins);
    auto hit = from_cache(key, s, after);
    if (!hit) return std::unexpected(hit.error());
    if (*hit) return {};

    std::vector<std::string> cmd;
    if (ins.json_form) {
      cmd = ins.args;
    } else {
      cmd = s.config.config.shell.empty() ? std::vector<std::string>{"/bin/sh", "-c"}
                                          : s.config.config.shell;
      cmd.push_back(ins.args.empty() ? "" : ins.args[0]);
    }
    auto id = make_container(s, cmd, args_.run_env(s.config.config.env, false));
    if (!id) return std::unexpected(id.error());
    out(" ---> Running in " + id->substr(0, 12) + "\n");
    auto waited = run_container(*id);
    if (!waited) {
      done_with(*id, false);
      return std::unexpected(waited.error());
    }
    if (waited->status_code != 0) {
      done_with(*id, false);
      return fail(Code::Internal, "The command '" + join(cmd) + "' returned a non-zero code: " +
                                      std::to_string(waited->status_code));
    }
    auto image_id = ctx_.engine->build_step(*id, s.image_id, after, rec->cmd);
    done_with(*id, static_cast<bool>(image_id));
    if (!image_id) return std::unexpected(image_id.error());
    image::ImageConfig kept = after;
    return made(key, s, kept, *image_id);
  }

  // Starts the container and streams its output until it exits.
  Result<engine::WaitResult> run_container(const std::string& id) {
    SILO_TRY(ctx_.engine->start(id));
    LogFollower follow(ctx_.engine->paths(id).log_path, 0);
    auto pump = [&] {
      for (const auto& e : follow.poll()) out(e.log);
    };
    bool cancelled = false;
    auto w = ctx_.engine->wait(id, "not-running", [&] {
      pump();
      cancelled = gone_();
      return cancelled;
    });
    if (cancelled) {
      (void)ctx_.engine->kill(id, "KILL");
      return fail(Code::Unavailable, "the build was cancelled: the client went away");
    }
    pump();
    return w;
  }

  // The destination of COPY/ADD/WORKDIR as an absolute path: relative ones are under the
  // working directory, and a trailing "/" is kept (it makes the destination a directory).
  std::string absolute(const std::string& dest, const Stage& s) {
    if (dest.starts_with("/")) return dest;
    std::string wd = s.config.config.working_dir.empty() ? "/" : s.config.config.working_dir;
    if (!wd.ends_with("/")) wd += "/";
    return wd + dest;
  }

  // Where COPY --from reads: a container of the stage's (or image's) image, never started.
  Result<std::string> source_root(const std::string& from, Stage& source) {
    std::string lower = lower_case(from);
    const Stage* st = nullptr;
    for (size_t i = 0; i < stages_.size(); ++i)
      if (stages_[i].name == lower || std::to_string(i) == lower) st = &stages_[i];
    if (st) {
      source = *st;
    } else {
      auto id = base_image(from);
      if (!id) return wrap(id.error(), "COPY --from=" + from);
      source.image_id = *id;
    }
    auto c = make_container(source, {"/bin/true"}, {});
    if (!c) return std::unexpected(c.error());
    return *c;
  }

  Status copy_step(const Instruction& ins, Stage& s) {
    auto x = image::expand_instruction(ins, args_.stage_vars(s.config.config.env));
    if (!x) return std::unexpected(x.error());
    const bool add = x->keyword == Keyword::Add;
    if (x->args.size() < 2)
      return fail(Code::Invalid, std::string(image::keyword_name(x->keyword)) +
                                     " requires at least two arguments");
    std::vector<std::string> sources(x->args.begin(), x->args.end() - 1);
    for (const auto& src : sources)
      if (add && (src.starts_with("http://") || src.starts_with("https://")))
        return fail(Code::Invalid, "ADD " + src +
                                       ": silo build does not download URLs; fetch the file "
                                       "into the build context or with RUN wget");
    // The sources: the context, or another stage's (or image's) root for --from.
    image::BuildContext src_ctx{.dir = bctx_.dir};
    std::string from_container;
    image::CopySpec spec;
    if (const image::Flag* f = x->flag("from")) {
      if (add) return fail(Code::Invalid, "ADD does not take --from; use COPY --from");
      Stage source;
      auto c = source_root(f->value, source);
      if (!c) return std::unexpected(c.error());
      from_container = *c;
      src_ctx.dir = ctx_.engine->paths(*c).rootfs;
      spec.keep_owner = true;
    }
    auto cleanup_from = [&] {
      if (!from_container.empty()) remove_container(from_container, false);
    };
    auto resolved = image::resolve_sources(src_ctx, sources);
    if (!resolved) return cleanup_from(), std::unexpected(resolved.error());
    auto sum = image::source_checksum(src_ctx, *resolved);
    if (!sum) return cleanup_from(), std::unexpected(sum.error());
    auto rec = image::step_record(s.config, ins, args_, *sum);
    if (!rec) return cleanup_from(), std::unexpected(rec.error());
    const image::ImageConfig after = s.config;
    std::string key = image::cache_key(s.image_id, *rec, after, ins, *sum);
    auto hit = from_cache(key, s, after);
    if (!hit) return cleanup_from(), std::unexpected(hit.error());
    if (*hit) return cleanup_from(), Status{};

    spec.root = src_ctx.dir;
    spec.sources = *resolved;
    spec.dest = absolute(x->args.back(), s);
    spec.add = add;
    if (const image::Flag* f = x->flag("chmod")) {
      auto m = image::parse_chmod(f->value);
      if (!m) return cleanup_from(), std::unexpected(m.error());
      spec.chmod = *m;
    }
    auto image_id = copy_layer(s, *x, spec, after, rec->cmd);
    cleanup_from();
    if (!image_id) return std::unexpected(image_id.error());
    return made(key, s, after, *image_id);
  }

  // The COPY tar extracted into a container of the stage's image and committed; on an
  // image with no layers (FROM scratch), into an empty directory that becomes the layer.
  Result<std::string> copy_layer(Stage& s, const Instruction& x, image::CopySpec& spec,
                                 const image::ImageConfig& after,
                                 const std::vector<std::string>& cmd) {
    if (!has_root(s)) {
      if (const image::Flag* f = x.flag("chown")) {
        auto ids = ctx_.engine->chown_ids("", f->value);
        if (!ids) return wrap(ids.error(), "--chown=" + f->value);
        spec.owner = *ids;
      }
      auto dir = empty_dir("copy");
      if (!dir) return std::unexpected(dir.error());
      SILO_TRY(extract(dir->path(), spec));
      return ctx_.engine->build_step("", s.image_id, after, cmd, dir->path());
    }
    auto c = make_container(s, {"/bin/true"}, {});
    if (!c) return std::unexpected(c.error());
    const std::string rootfs = ctx_.engine->paths(*c).rootfs;
    if (auto d = engine::stat_in_root(rootfs, spec.dest); d && (d->mode & kGoModeDir))
      spec.dest_is_dir = true;
    Status st;
    if (const image::Flag* f = x.flag("chown")) {
      auto ids = ctx_.engine->chown_ids(*c, f->value);
      if (!ids)
        st = wrap(ids.error(), "--chown=" + f->value);
      else
        spec.owner = *ids;
    }
    if (st) st = extract(rootfs, spec);
    if (!st) {
      done_with(*c, false);
      return std::unexpected(st.error());
    }
    auto id = ctx_.engine->build_step(*c, s.image_id, after, cmd);
    remove_container(*c, false);
    return id;
  }


  // Where the builder's temporary files go: <data-root>/image/tmp, made when missing.
  Result<std::string> spool_dir() {
    std::string dir = ctx_.config.root + "/image/tmp";
    SILO_TRY(sys::mkdir_p(dir, 0700));
    return dir;
  }

  // An empty directory (mode 0755, as a layer's root or a made directory has) in the spool.
  Result<ScratchDir> empty_dir(std::string_view prefix) {
    auto spool = spool_dir();
    if (!spool) return std::unexpected(spool.error());
    auto dir = ScratchDir::make(*spool, prefix);
    if (!dir) return std::unexpected(dir.error());
    if (::chmod(dir->path().c_str(), 0755) != 0) return fail_errno(errno, "chmod " + dir->path());
    return dir;
  }

  // The tar goes through an unnamed spool file, then into the container's root.
  Status extract(const std::string& rootfs, const image::CopySpec& spec) {
    auto spool = spool_dir();
    if (!spool) return std::unexpected(spool.error());
    auto fd = sys::open(*spool, O_RDWR | O_TMPFILE | O_CLOEXEC, 0600);
    if (!fd) return wrap(fd.error(), "COPY: spool file in " + *spool);
    int raw = fd->get();
    SILO_TRY(image::write_copy_tar(
        spec, [raw](std::string_view d) { return sys::write_all(raw, d.data(), d.size()); }));
    if (::lseek(raw, 0, SEEK_SET) < 0) return fail_errno(errno, "COPY: rewind the spool file");
    return engine::extract_tar(rootfs, "/",
                               [raw](char* buf, size_t n) -> Result<size_t> {
                                 ssize_t r = ::read(raw, buf, n);
                                 if (r < 0) return fail_errno(errno, "COPY: read the spool file");
                                 return static_cast<size_t>(r);
                               },
                               {.copy_uid_gid = true});
  }

  // WORKDIR: a config change, plus the directory when the image lacks it (a layer).
  Status workdir_step(const Instruction& ins, Stage& s) {
    auto after = image::apply_step(s.config, ins, args_, s.cmd_set);
    if (!after) return std::unexpected(after.error());
    auto rec = image::step_record(s.config, ins, args_);
    if (!rec) return std::unexpected(rec.error());
    std::string key = image::cache_key(s.image_id, *rec, *after, ins);
    auto hit = from_cache(key, s, *after);
    if (!hit) return std::unexpected(hit.error());
    if (*hit) return {};
    const std::string dir = after->config.working_dir;
    if (!has_root(s)) {  // scratch: nothing to make the directory in yet
      auto id = ctx_.engine->build_step("", s.image_id, *after, rec->cmd);
      if (!id) return std::unexpected(id.error());
      return made(key, s, *after, *id);
    }
    auto c = make_container(s, {"/bin/true"}, {});
    if (!c) return std::unexpected(c.error());
    const std::string rootfs = ctx_.engine->paths(*c).rootfs;
    Status st;
    if (!engine::stat_in_root(rootfs, dir)) {
      // An empty directory as the source, copied as the destination directory itself.
      auto empty = empty_dir("workdir");
      if (!empty)
        st = std::unexpected(empty.error());
      else
        st = extract(rootfs,
                     {.root = empty->path(), .sources = {"."}, .dest = dir, .dest_is_dir = true});
    }
    std::optional<std::string> id;
    if (st) {
      auto made_id = ctx_.engine->build_step(*c, s.image_id, *after, rec->cmd);
      if (made_id)
        id = *made_id;
      else
        st = std::unexpected(made_id.error());
    }
    remove_container(*c, false);
    if (!st) return st;
    return made(key, s, *after, *id);
  }

  const Context& ctx_;
  const image::BuildContext& bctx_;
  const image::Dockerfile& df_;
  const BuildOptions& opts_;
  const BuildWriteFn& write_;
  const std::function<bool()>& gone_;
  image::BuildArgs args_;
  std::vector<Stage> stages_;
  std::vector<std::string> scratch_containers_;  // made here and not removed yet
  int step_ = 0, total_ = 0;
};

}  // namespace

Result<std::string> run_build(const Context& ctx, const image::BuildContext& bctx,
                              const image::Dockerfile& df, const BuildOptions& opts,
                              const BuildWriteFn& write, const std::function<bool()>& gone) {
  if (df.stages.empty())
    return fail(Code::Invalid,
                "the Dockerfile has no FROM: a build needs a base image "
                "(or FROM scratch)");
  Builder b(ctx, bctx, df, opts, write, gone);
  return b.run();
}

}  // namespace silo::daemon
