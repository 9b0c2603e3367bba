#include "image/build_args.h"

#include <algorithm>

#include "image/dockerfile_parse.h"

namespace silo::image {

namespace {

using detail::parse_error;

// Docker's predefined ARGs: usable in RUN without an ARG line (builder/dockerfile/buildargs.go).
constexpr std::string_view kBuiltinArgs[] = {
    "HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY",
    "ftp_proxy",  "NO_PROXY",   "no_proxy",    "ALL_PROXY",   "all_proxy"};

bool is_builtin(std::string_view name) {
  return std::find(std::begin(kBuiltinArgs), std::end(kBuiltinArgs), name) !=
         std::end(kBuiltinArgs);
}

Result<std::string> expand(const Instruction& ins, std::string_view word, const Vars& vars) {
  auto r = expand_word(word, vars, ins.escape);
  if (!r)
    return parse_error(ins.line, std::string(keyword_name(ins.keyword)) + " " + std::string(word) +
                                     ": " + r.error().message);
  return r;
}

Status expand_all(const Instruction& ins, std::vector<std::string>& words, const Vars& vars) {
  for (std::string& w : words) {
    auto r = expand(ins, w, vars);
    if (!r) return std::unexpected(r.error());
    w = std::move(*r);
  }
  return {};
}

// Declares each name of one ARG line into `into`, with defaults expanded by `vars`.
Status declare_into(const Instruction& arg, Vars vars,
                    const std::map<std::string, std::string>& provided,
                    std::map<std::string, std::optional<std::string>>& into,
                    const std::map<std::string, std::optional<std::string>>* fallback,
                    std::set<std::string>& consumed) {
  for (const KeyValue& kv : arg.pairs) {
    std::optional<std::string> value;
    if (kv.has_value) {
      auto v = expand(arg, kv.value, vars);
      if (!v) return std::unexpected(v.error());
      value = std::move(*v);
    }
    if (auto it = provided.find(kv.key); it != provided.end())
      value = it->second;
    else if (!kv.has_value && fallback)
      if (auto m = fallback->find(kv.key); m != fallback->end()) value = m->second;
    consumed.insert(kv.key);
    into[kv.key] = value;
    if (value) vars[kv.key] = *value;  // a later name on the same line sees this one
  }
  return {};
}

}  // namespace

Status BuildArgs::declare_meta(const Instruction& arg) {
  return declare_into(arg, meta_vars(), provided_, meta_, nullptr, consumed_);
}

Status BuildArgs::declare(const Instruction& arg, const std::vector<std::string>& env) {
  return declare_into(arg, stage_vars(env), provided_, declared_, &meta_, consumed_);
}

Vars BuildArgs::meta_vars() const {
  Vars out;
  for (const auto& [k, v] : meta_)
    if (v) out[k] = *v;
  return out;
}

Vars BuildArgs::stage_vars(const std::vector<std::string>& env) const {
  Vars out;
  for (const auto& [k, v] : declared_)
    if (v) out[k] = *v;
  for (auto& [k, v] : vars_from_env(env)) out[k] = v;
  return out;
}

std::vector<std::string> BuildArgs::run_env(const std::vector<std::string>& env,
                                            bool for_record) const {
  Vars from_env = vars_from_env(env);
  std::map<std::string, std::string> out;
  for (const auto& [k, v] : declared_)
    if (v && !from_env.contains(k)) out[k] = *v;
  if (!for_record)
    for (const auto& [k, v] : provided_)
      if (is_builtin(k) && !from_env.contains(k)) out.emplace(k, v);
  std::vector<std::string> list;
  for (const auto& [k, v] : out) list.push_back(k + "=" + v);
  return list;
}

std::vector<std::string> BuildArgs::unconsumed() const {
  std::vector<std::string> out;
  for (const auto& [k, v] : provided_)
    if (!consumed_.contains(k) && !is_builtin(k)) out.push_back(k);
  return out;
}

Result<Instruction> expand_instruction(const Instruction& ins, const Vars& vars) {
  Instruction out = ins;
  switch (ins.keyword) {
    case Keyword::Copy:
    case Keyword::Add:
      for (Flag& f : out.flags)
        if (f.name == "chown" || f.name == "chmod") {
          auto v = expand(ins, f.value, vars);
          if (!v) return std::unexpected(v.error());
          f.value = std::move(*v);
        }
      SILO_TRY(expand_all(ins, out.args, vars));
      break;
    case Keyword::Env:
    case Keyword::Label:
      for (KeyValue& kv : out.pairs) {
        auto k = expand(ins, kv.key, vars);
        if (!k) return std::unexpected(k.error());
        auto v = expand(ins, kv.value, vars);
        if (!v) return std::unexpected(v.error());
        if (k->empty())
          return parse_error(ins.line, std::string(keyword_name(ins.keyword)) +
                                           " names can not be blank (\"" + kv.key +
                                           "\" expanded to nothing)");
        kv.key = std::move(*k);
        kv.value = std::move(*v);
      }
      break;
    case Keyword::Expose: {
      SILO_TRY(expand_all(ins, out.args, vars));
      std::vector<std::string> split;  // EXPOSE $PORTS with PORTS="80 443"
      for (const std::string& a : out.args)
        for (size_t i = 0; i < a.size();) {
          size_t j = a.find_first_of(" \t", i);
          if (j == std::string::npos) j = a.size();
          if (j > i) split.push_back(a.substr(i, j - i));
          i = j + 1;
        }
      out.args = std::move(split);
      break;
    }
    case Keyword::Volume:
    case Keyword::Workdir:
    case Keyword::User:
    case Keyword::StopSignal:
      SILO_TRY(expand_all(ins, out.args, vars));
      break;
    default:
      break;
  }
  return out;
}

Result<std::string> resolve_base(const Stage& stage, const BuildArgs& args) {
  auto base = expand(stage.from, stage.base, args.meta_vars());
  if (!base) return base;
  if (base->empty())
    return parse_error(stage.from.line, "base name (" + stage.base + ") should not be blank");
  return base;
}

}  // namespace silo::image
