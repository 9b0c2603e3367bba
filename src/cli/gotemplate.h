#pragma once
// A small evaluator for Go's text/template over JSON data, for --format on ps, inspect,
// events, stats, volume ls and friends. Debian ships no C++ implementation of Go's
// text/template, so this is the subset docker users write:
//   {{.Field.Sub}}  {{.}}  {{json .X}}  {{index .Config.Labels "k"}}  {{.Label "k"}}
//   {{range .Mounts}}...{{else}}...{{end}}  {{range $k, $v := .Labels}}...{{end}}
//   {{if .X}}...{{else if .Y}}...{{else}}...{{end}}  {{with .X}}...{{end}}
//   pipelines ({{.Names | upper}}), ( sub pipelines ), {{- trim -}} markers, and the
//   functions json, index, join, split, len, upper, lower, title, truncate, eq, ne, lt,
//   gt, not, and, or, print, println, printf (%s %d %v %q only).
// `.Name "arg"` on an object field looks the argument up in it (docker's .Label "k").
// Values print as Go's %v does: maps as map[k:v], arrays as [a b], missing as <no value>.

#include <memory>
#include <string>
#include <string_view>

#include "common/error.h"
#include "common/json.h"

namespace silo::cli {

struct TemplateNode;

// A parsed template; cheap to evaluate many times (one ps row, one event).
class Template {
 public:
  // Parses `text`. Invalid error "template: <why>" for a syntax error.
  [[nodiscard]] static Result<Template> parse(std::string_view text);
  // Evaluates against `data`. Invalid error "template: <why>" for a bad call.
  [[nodiscard]] Result<std::string> execute(const Json& data) const;

 private:
  std::shared_ptr<const TemplateNode> root_;
};

// Parses and executes in one step.
[[nodiscard]] Result<std::string> render_template(std::string_view text, const Json& data);

// A value as Go's fmt %v prints it.
[[nodiscard]] std::string go_print(const Json& v);

}  // namespace silo::cli
