#include "cli/gotemplate.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <vector>

namespace silo::cli {

namespace {

struct Pipe;

// One operand of a command: ".", ".A.B", "$", "$x.A", a literal, a function name or
// a parenthesised pipeline.
struct Operand {
  enum Kind { Field, Var, Literal, Ident, Sub } kind = Literal;
  std::string var;                // Var: name without '$' ("" is "$")
  std::vector<std::string> path;  // Field/Var: the field chain
  Json lit;                       // Literal
  std::string ident;              // Ident
  std::shared_ptr<Pipe> sub;      // Sub
};

struct Command {
  std::vector<Operand> ops;
};

struct Pipe {
  std::vector<std::string> decl;  // variables declared with :=
  std::vector<Command> cmds;
};

}  // namespace

struct TemplateNode {
  enum Kind { List, Text, Action, If, Range, With } kind = List;
  std::string text;
  Pipe pipe;
  std::vector<TemplateNode> body, else_body;
};

namespace {

Error terr(const std::string& why) {
  return Error{0, Code::Invalid, "template: " + why};
}

// ---- lexing the inside of one action ----

Result<std::vector<std::string>> lex(std::string_view s) {
  std::vector<std::string> toks;
  size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
    } else if (c == '"' || c == '`') {
      size_t j = i + 1;
      while (j < s.size() && s[j] != c) j += (c == '"' && s[j] == '\\') ? 2 : 1;
      if (j >= s.size()) return std::unexpected(terr("unterminated quoted string"));
      toks.emplace_back(s.substr(i, j - i + 1));
      i = j + 1;
    } else if (c == ')' && i + 1 < s.size() && s[i + 1] == '.') {
      // "(pipeline).Field": a field chain on the parenthesised value, marked with \x01.
      toks.emplace_back(")");
      size_t j = i + 1;
      while (j < s.size() && !std::isspace(static_cast<unsigned char>(s[j])) &&
             std::string_view("()|,").find(s[j]) == std::string_view::npos)
        ++j;
      toks.push_back("\x01" + std::string(s.substr(i + 1, j - i - 1)));
      i = j;
    } else if (c == '(' || c == ')' || c == '|' || c == ',') {
      toks.emplace_back(1, c);
      ++i;
    } else if (c == ':' && i + 1 < s.size() && s[i + 1] == '=') {
      toks.emplace_back(":=");
      i += 2;
    } else {
      size_t j = i;
      while (j < s.size() && !std::isspace(static_cast<unsigned char>(s[j])) &&
             std::string_view("()|,\"`").find(s[j]) == std::string_view::npos &&
             !(s[j] == ':' && j + 1 < s.size() && s[j + 1] == '='))
        ++j;
      toks.emplace_back(s.substr(i, j - i));
      i = j;
    }
  }
  return toks;
}

std::string unquote(const std::string& t) {
  if (t[0] == '`') return t.substr(1, t.size() - 2);
  std::string out;
  for (size_t i = 1; i + 1 < t.size(); ++i) {
    if (t[i] != '\\') {
      out += t[i];
      continue;
    }
    char n = t[++i];
    out += n == 'n' ? '\n' : n == 't' ? '\t' : n == 'r' ? '\r' : n;
  }
  return out;
}

std::vector<std::string> split_path(std::string_view s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < s.size()) {
    size_t j = s.find('.', i);
    if (j == std::string_view::npos) j = s.size();
    if (j > i) out.emplace_back(s.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

class PipeParser {
 public:
  explicit PipeParser(std::vector<std::string> toks) : t_(std::move(toks)) {}

  Result<Pipe> parse_all() {
    auto p = pipe();
    if (!p) return p;
    if (pos_ != t_.size())
      return std::unexpected(terr("unexpected \"" + t_[pos_] + "\" in command"));
    return p;
  }

 private:
  Result<Pipe> pipe() {
    Pipe p;
    // Variable declarations: $x := ..., or $i, $e := ...
    size_t save = pos_;
    std::vector<std::string> decl;
    while (pos_ < t_.size() && t_[pos_].starts_with("$")) {
      decl.push_back(t_[pos_].substr(1));
      ++pos_;
      if (pos_ < t_.size() && t_[pos_] == ",") {
        ++pos_;
        continue;
      }
      break;
    }
    if (!decl.empty() && pos_ < t_.size() && t_[pos_] == ":=") {
      ++pos_;
      p.decl = decl;
    } else {
      pos_ = save;
    }
    while (true) {
      Command c;
      while (pos_ < t_.size() && t_[pos_] != "|" && t_[pos_] != ")") {
        auto op = operand();
        if (!op) return std::unexpected(op.error());
        c.ops.push_back(std::move(*op));
      }
      if (c.ops.empty()) return std::unexpected(terr("missing value for command"));
      p.cmds.push_back(std::move(c));
      if (pos_ < t_.size() && t_[pos_] == "|") {
        ++pos_;
        continue;
      }
      break;
    }
    return p;
  }

  Result<Operand> operand() {
    const std::string tok = t_[pos_++];
    Operand o;
    if (tok == "(") {
      auto sub = pipe();
      if (!sub) return std::unexpected(sub.error());
      if (pos_ >= t_.size() || t_[pos_] != ")") return std::unexpected(terr("unclosed left paren"));
      ++pos_;
      o.kind = Operand::Sub;
      o.sub = std::make_shared<Pipe>(std::move(*sub));
      if (pos_ < t_.size() && t_[pos_].starts_with("\x01"))
        o.path = split_path(t_[pos_++].substr(1));
    } else if (tok[0] == '"' || tok[0] == '`') {
      o.lit = unquote(tok);
    } else if (tok[0] == '.') {
      o.kind = Operand::Field;
      o.path = split_path(tok);
    } else if (tok[0] == '$') {
      o.kind = Operand::Var;
      auto dot = tok.find('.');
      o.var = tok.substr(1, dot == std::string::npos ? std::string::npos : dot - 1);
      if (dot != std::string::npos) o.path = split_path(std::string_view(tok).substr(dot));
    } else if (tok == "true" || tok == "false") {
      o.lit = tok == "true";
    } else if (tok == "nil") {
      o.lit = nullptr;
    } else if (std::isdigit(static_cast<unsigned char>(tok[0])) || tok[0] == '-') {
      auto j = Json::parse(tok, nullptr, false);
      if (j.is_discarded()) return std::unexpected(terr("bad number syntax: \"" + tok + "\""));
      o.lit = j;
    } else if (tok == ")" || tok == "," || tok == ":=") {
      return std::unexpected(terr("unexpected \"" + tok + "\" in operand"));
    } else {
      o.kind = Operand::Ident;
      o.ident = tok;
    }
    return o;
  }

  std::vector<std::string> t_;
  size_t pos_ = 0;
};

// ---- parsing the template text into nodes ----

struct Action {
  bool is_text;
  std::string text;
};

Result<std::vector<Action>> split_actions(std::string_view s) {
  std::vector<Action> out;
  size_t i = 0;
  while (i < s.size()) {
    size_t open = s.find("{{", i);
    if (open == std::string_view::npos) {
      out.push_back({true, std::string(s.substr(i))});
      break;
    }
    std::string text(s.substr(i, open - i));
    size_t start = open + 2;
    if (start + 1 < s.size() && s[start] == '-' &&
        std::isspace(static_cast<unsigned char>(s[start + 1]))) {
      while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
        text.pop_back();
      start += 1;
    }
    out.push_back({true, text});
    size_t close = s.find("}}", start);
    if (close == std::string_view::npos) return std::unexpected(terr("unclosed action"));
    std::string inner(s.substr(start, close - start));
    i = close + 2;
    if (inner.size() >= 2 && inner.back() == '-' &&
        std::isspace(static_cast<unsigned char>(inner[inner.size() - 2]))) {
      inner.pop_back();
      while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    }
    out.push_back({false, inner});
  }
  return out;
}

class NodeParser {
 public:
  explicit NodeParser(std::vector<Action> a) : a_(std::move(a)) {}

  // Parses nodes until {{end}}/{{else}} (returned in `stop`) or the end of input.
  Result<std::vector<TemplateNode>> list(std::string& stop) {
    std::vector<TemplateNode> nodes;
    while (pos_ < a_.size()) {
      const Action& act = a_[pos_++];
      if (act.is_text) {
        if (!act.text.empty())
          nodes.push_back(TemplateNode{TemplateNode::Text, act.text, {}, {}, {}});
        continue;
      }
      auto toks = lex(act.text);
      if (!toks) return std::unexpected(toks.error());
      if (toks->empty()) return std::unexpected(terr("missing value for command"));
      const std::string head = (*toks)[0];
      if (head == "/*" || head.starts_with("/*")) continue;  // a comment
      if (head == "end" || head == "else") {
        stop = act.text;
        return nodes;
      }
      TemplateNode n;
      if (head == "if" || head == "range" || head == "with") {
        n.kind = head == "if"      ? TemplateNode::If
                 : head == "range" ? TemplateNode::Range
                                   : TemplateNode::With;
        SILO_TRY(block(n, std::vector<std::string>(toks->begin() + 1, toks->end())));
      } else {
        n.kind = TemplateNode::Action;
        auto p = PipeParser(*toks).parse_all();
        if (!p) return std::unexpected(p.error());
        n.pipe = std::move(*p);
      }
      nodes.push_back(std::move(n));
    }
    stop.clear();
    return nodes;
  }

 private:
  Status block(TemplateNode& n, std::vector<std::string> toks) {
    auto p = PipeParser(std::move(toks)).parse_all();
    if (!p) return std::unexpected(p.error());
    n.pipe = std::move(*p);
    std::string stop;
    auto body = list(stop);
    if (!body) return std::unexpected(body.error());
    n.body = std::move(*body);
    auto st = lex(stop);
    if (!st || st->empty()) return std::unexpected(terr("unexpected EOF"));
    if ((*st)[0] == "end") return {};
    // else, or "else if ..." which nests an if in the else branch.
    if (st->size() > 1 && (*st)[1] == "if" && n.kind == TemplateNode::If) {
      TemplateNode inner;
      inner.kind = TemplateNode::If;
      SILO_TRY(block(inner, std::vector<std::string>(st->begin() + 2, st->end())));
      n.else_body.push_back(std::move(inner));
      return {};
    }
    auto els = list(stop);
    if (!els) return std::unexpected(els.error());
    n.else_body = std::move(*els);
    auto st2 = lex(stop);
    if (!st2 || st2->empty() || (*st2)[0] != "end")
      return std::unexpected(terr("expected end; found EOF"));
    return {};
  }

  std::vector<Action> a_;
  size_t pos_ = 0;
};

// ---- evaluation ----

bool truthy(const Json& v) {
  if (v.is_null()) return false;
  if (v.is_boolean()) return v.get<bool>();
  if (v.is_number_integer()) return v.get<int64_t>() != 0;
  if (v.is_number()) return v.get<double>() != 0;
  if (v.is_string()) return !v.get_ref<const std::string&>().empty();
  return !v.empty();
}

std::string print_inner(const Json& v, bool top) {
  if (v.is_null()) return top ? "<no value>" : "<nil>";
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_number_integer() || v.is_number_unsigned()) return v.dump();
  if (v.is_number_float()) {
    char buf[64];
    auto r = std::to_chars(buf, buf + sizeof buf, v.get<double>());
    return std::string(buf, r.ptr);
  }
  std::string out = v.is_array() ? "[" : "map[";
  bool first = true;
  for (auto it = v.begin(); it != v.end(); ++it) {
    if (!first) out += ' ';
    first = false;
    if (v.is_object()) out += it.key() + ":";
    out += print_inner(*it, false);
  }
  return out + "]";
}

class Exec {
 public:
  explicit Exec(const Json& root) { vars_.push_back({"", root}); }

  Status run(const std::vector<TemplateNode>& nodes, const Json& dot, std::string& out) {
    for (const auto& n : nodes) SILO_TRY(run_node(n, dot, out));
    return {};
  }

 private:
  Status run_node(const TemplateNode& n, const Json& dot, std::string& out) {
    switch (n.kind) {
      case TemplateNode::Text:
        out += n.text;
        return {};
      case TemplateNode::List:
        return run(n.body, dot, out);
      case TemplateNode::Action: {
        auto v = pipe(n.pipe, dot);
        if (!v) return std::unexpected(v.error());
        if (n.pipe.decl.empty()) out += go_print(*v);
        return {};
      }
      case TemplateNode::If:
      case TemplateNode::With: {
        size_t mark = vars_.size();
        auto v = pipe(n.pipe, dot);
        if (!v) return std::unexpected(v.error());
        Status s = truthy(*v) ? run(n.body, n.kind == TemplateNode::With ? *v : dot, out)
                              : run(n.else_body, dot, out);
        vars_.resize(mark);
        return s;
      }
      case TemplateNode::Range:
        return range(n, dot, out);
    }
    return {};
  }

  Status range(const TemplateNode& n, const Json& dot, std::string& out) {
    Pipe p = n.pipe;
    std::vector<std::string> decl = p.decl;
    p.decl.clear();
    auto v = pipe(p, dot);
    if (!v) return std::unexpected(v.error());
    if (!truthy(*v)) return run(n.else_body, dot, out);
    if (!v->is_array() && !v->is_object())
      return std::unexpected(terr("range can't iterate over " + go_print(*v)));
    size_t mark = vars_.size();
    size_t idx = 0;
    for (auto it = v->begin(); it != v->end(); ++it, ++idx) {
      vars_.resize(mark);
      Json key = v->is_object() ? Json(it.key()) : Json(idx);
      if (decl.size() == 1) vars_.push_back({decl[0], *it});
      if (decl.size() >= 2) {
        vars_.push_back({decl[0], key});
        vars_.push_back({decl[1], *it});
      }
      SILO_TRY(run(n.body, *it, out));
    }
    vars_.resize(mark);
    return {};
  }

  Result<Json> pipe(const Pipe& p, const Json& dot) {
    std::optional<Json> piped;
    for (const auto& c : p.cmds) {
      auto v = command(c, dot, piped);
      if (!v) return v;
      piped = std::move(*v);
    }
    Json result = piped ? *piped : Json();
    for (const auto& d : p.decl) vars_.push_back({d, result});
    return result;
  }

  static Json walk(Json v, const std::vector<std::string>& path) {
    for (const auto& f : path) {
      if (!v.is_object()) return Json();
      auto it = v.find(f);
      if (it == v.end()) return Json();
      v = *it;
    }
    return v;
  }

  Result<Json> operand(const Operand& o, const Json& dot) {
    switch (o.kind) {
      case Operand::Literal:
        return o.lit;
      case Operand::Field:
        return walk(dot, o.path);
      case Operand::Var:
        for (auto it = vars_.rbegin(); it != vars_.rend(); ++it)
          if (it->first == o.var) return walk(it->second, o.path);
        return std::unexpected(terr("undefined variable: $" + o.var));
      case Operand::Sub: {
        auto v = pipe(*o.sub, dot);
        if (!v) return v;
        return walk(*v, o.path);
      }
      case Operand::Ident:
        return call(o.ident, {});
    }
    return Json();
  }

  Result<Json> command(const Command& c, const Json& dot, const std::optional<Json>& piped) {
    const Operand& first = c.ops[0];
    std::vector<Json> args;
    for (size_t i = 1; i < c.ops.size(); ++i) {
      auto v = operand(c.ops[i], dot);
      if (!v) return v;
      args.push_back(std::move(*v));
    }
    if (piped) args.push_back(*piped);
    if (first.kind == Operand::Ident) return call(first.ident, args);
    auto v = operand(first, dot);
    if (!v) return v;
    if (args.empty()) return v;
    // A "method" with arguments: .Label "k" looks "k" up in the field's object.
    if (first.kind == Operand::Field && v->is_object() && args.size() == 1 && args[0].is_string()) {
      auto it = v->find(args[0].get<std::string>());
      return it == v->end() ? Json("") : *it;
    }
    return std::unexpected(terr("can't give argument to non-function " + go_print(*v)));
  }

  Result<Json> call(const std::string& fn, const std::vector<Json>& a) {
    auto need = [&](size_t n) -> Status {
      if (a.size() < n)
        return std::unexpected(terr("wrong number of args for " + fn + ": want " +
                                    std::to_string(n) + " got " + std::to_string(a.size())));
      return {};
    };
    auto str = [](const Json& v) { return go_print(v); };
    if (fn == "json") {
      SILO_TRY(need(1));
      return Json(a[0].dump());
    }
    if (fn == "index") {
      SILO_TRY(need(2));
      Json v = a[0];
      for (size_t i = 1; i < a.size(); ++i) {
        if (v.is_object() && a[i].is_string()) {
          auto it = v.find(a[i].get<std::string>());
          v = it == v.end() ? Json() : *it;
        } else if (v.is_array() && a[i].is_number_integer()) {
          auto k = a[i].get<int64_t>();
          if (k < 0 || static_cast<size_t>(k) >= v.size())
            return std::unexpected(terr("index out of range: " + std::to_string(k)));
          v = v[k];
        } else if (v.is_null()) {
          return Json();
        } else {
          return std::unexpected(terr("can't index item of type " + std::string(v.type_name())));
        }
      }
      return v;
    }
    if (fn == "len") {
      SILO_TRY(need(1));
      if (a[0].is_string()) return Json(a[0].get<std::string>().size());
      if (a[0].is_array() || a[0].is_object()) return Json(a[0].size());
      if (a[0].is_null()) return Json(0);
      return std::unexpected(terr("len of type " + std::string(a[0].type_name())));
    }
    if (fn == "join") {
      SILO_TRY(need(2));
      std::string out;
      if (a[0].is_array())
        for (size_t i = 0; i < a[0].size(); ++i) out += (i ? str(a[1]) : "") + str(a[0][i]);
      return Json(out);
    }
    if (fn == "split") {
      SILO_TRY(need(2));
      std::string s = str(a[0]), sep = str(a[1]);
      Json out = Json::array();
      size_t start = 0;
      while (true) {
        size_t p = sep.empty() ? std::string::npos : s.find(sep, start);
        out.push_back(s.substr(start, p == std::string::npos ? std::string::npos : p - start));
        if (p == std::string::npos) break;
        start = p + sep.size();
      }
      return out;
    }
    if (fn == "upper" || fn == "lower" || fn == "title") {
      SILO_TRY(need(1));
      std::string s = str(a[0]);
      bool start = true;
      for (auto& c : s) {
        unsigned char u = static_cast<unsigned char>(c);
        if (fn == "upper" || (fn == "title" && start))
          c = static_cast<char>(std::toupper(u));
        else if (fn == "lower")
          c = static_cast<char>(std::tolower(u));
        start = std::isspace(u);
      }
      return Json(s);
    }
    if (fn == "truncate") {
      SILO_TRY(need(2));
      std::string s = str(a[0]);
      auto n = a[1].is_number() ? a[1].get<int64_t>() : 0;
      return Json(s.substr(0, static_cast<size_t>(std::max<int64_t>(n, 0))));
    }
    if (fn == "eq" || fn == "ne") {
      SILO_TRY(need(2));
      bool eq = false;
      for (size_t i = 1; i < a.size(); ++i) eq = eq || a[0] == a[i];
      return Json(fn == "eq" ? eq : !eq);
    }
    if (fn == "lt" || fn == "gt" || fn == "le" || fn == "ge") {
      SILO_TRY(need(2));
      bool r = fn == "lt"   ? a[0] < a[1]
               : fn == "gt" ? a[1] < a[0]
               : fn == "le" ? !(a[1] < a[0])
                            : !(a[0] < a[1]);
      return Json(r);
    }
    if (fn == "not") {
      SILO_TRY(need(1));
      return Json(!truthy(a[0]));
    }
    if (fn == "and" || fn == "or") {
      SILO_TRY(need(1));
      for (const auto& v : a)
        if (truthy(v) != (fn == "and")) return v;
      return a.back();
    }
    if (fn == "print" || fn == "println") {
      std::string out;
      for (size_t i = 0; i < a.size(); ++i) {
        if (i && (fn == "println" || (!a[i].is_string() && !a[i - 1].is_string()))) out += ' ';
        out += go_print(a[i]);
      }
      if (fn == "println") out += '\n';
      return Json(out);
    }
    if (fn == "printf") {
      SILO_TRY(need(1));
      return printf(str(a[0]), std::vector<Json>(a.begin() + 1, a.end()));
    }
    return std::unexpected(terr("function \"" + fn + "\" not defined"));
  }

  static Json printf(const std::string& f, const std::vector<Json>& args) {
    std::string out;
    size_t k = 0;
    for (size_t i = 0; i < f.size(); ++i) {
      if (f[i] != '%' || i + 1 >= f.size()) {
        out += f[i];
        continue;
      }
      char v = f[++i];
      if (v == '%') {
        out += '%';
        continue;
      }
      if (k >= args.size()) {
        out += std::string("%!") + v + "(MISSING)";
        continue;
      }
      const Json& a = args[k++];
      out += v == 'q' ? Json(go_print(a)).dump() : go_print(a);
    }
    return Json(out);
  }

  std::vector<std::pair<std::string, Json>> vars_;
};

}  // namespace

Result<Template> Template::parse(std::string_view text) {
  auto acts = split_actions(text);
  if (!acts) return std::unexpected(acts.error());
  NodeParser np(std::move(*acts));
  std::string stop;
  auto nodes = np.list(stop);
  if (!nodes) return std::unexpected(nodes.error());
  if (!stop.empty()) return std::unexpected(terr("unexpected {{" + stop + "}}"));
  auto root = std::make_shared<TemplateNode>();
  root->kind = TemplateNode::List;
  root->body = std::move(*nodes);
  Template t;
  t.root_ = root;
  return t;
}

Result<std::string> Template::execute(const Json& data) const {
  std::string out;
  Exec ex(data);
  SILO_TRY(ex.run(root_->body, data, out));
  return out;
}

Result<std::string> render_template(std::string_view text, const Json& data) {
  auto t = Template::parse(text);
  if (!t) return std::unexpected(t.error());
  return t->execute(data);
}

std::string go_print(const Json& v) {
  return print_inner(v, true);
}

}  // namespace silo::cli
