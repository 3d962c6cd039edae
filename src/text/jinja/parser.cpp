// Recursive-descent parser with Jinja2's operator precedence (lowest first): ternary `if/else`,
// `or`, `and`, `not`, comparisons and `in`, `+ -`, `~`, `* / // %`, `**`, unary `- +`, then
// postfix `.x [i] (args)`, filters `|f` and tests `is t`.
#include <initializer_list>

#include "text/jinja/ast.h"

namespace rlx::text::jinja {

namespace {

// Bounds recursion so that hostile input ("((((((...") fails cleanly instead of overflowing.
constexpr int kMaxDepth = 200;

class Parser {
 public:
  explicit Parser(const std::vector<Token>& toks) : toks_(toks) {}

  Body parse() {
    Body body = parse_body({}, Pos{});
    return body;
  }

 private:
  struct DepthGuard {
    explicit DepthGuard(Parser& p) : p_(p) {
      if (++p_.depth_ > kMaxDepth) syntax_error(p_.peek().pos, "template nested too deeply");
    }
    ~DepthGuard() { --p_.depth_; }
    Parser& p_;
  };

  const Token& peek(size_t ahead = 0) const {
    size_t i = std::min(pos_ + ahead, toks_.size() - 1);
    return toks_[i];
  }
  const Token& next() {
    const Token& t = toks_[pos_];
    if (pos_ + 1 < toks_.size()) ++pos_;
    return t;
  }
  bool is_op(const char* op, size_t ahead = 0) const {
    return peek(ahead).type == Tok::Op && peek(ahead).text == op;
  }
  bool is_name(const char* name, size_t ahead = 0) const {
    return peek(ahead).type == Tok::Name && peek(ahead).text == name;
  }
  static std::string describe(const Token& t) {
    switch (t.type) {
      case Tok::Eof:
        return "end of template";
      case Tok::Text:
        return "text";
      case Tok::VarEnd:
        return "'}}'";
      case Tok::BlockEnd:
        return "'%}'";
      case Tok::VarBegin:
        return "'{{'";
      case Tok::BlockBegin:
        return "'{%'";
      case Tok::String:
        return "string literal";
      default:
        return "'" + t.text + "'";
    }
  }
  [[noreturn]] void unexpected(const std::string& expected) {
    syntax_error(peek().pos, "expected " + expected + ", got " + describe(peek()));
  }
  void expect_op(const char* op) {
    if (!is_op(op)) unexpected(std::string("'") + op + "'");
    next();
  }
  void expect_name(const char* name) {
    if (!is_name(name)) unexpected(std::string("'") + name + "'");
    next();
  }
  std::string expect_identifier() {
    if (peek().type != Tok::Name) unexpected("a name");
    return next().text;
  }
  void expect_block_end() {
    if (peek().type != Tok::BlockEnd) unexpected("'%}'");
    next();
  }

  static ExprPtr make(ExprKind kind, Pos pos) {
    auto e = std::make_unique<Expr>();
    e->kind = kind;
    e->pos = pos;
    return e;
  }

  // ---- statements ----

  // Parses until `{% <one of ENDS>`; leaves the position at that name (after the `{%`).
  Body parse_body(std::initializer_list<const char*> ends, Pos opened) {
    DepthGuard guard(*this);
    Body body;
    while (true) {
      const Token& t = peek();
      if (t.type == Tok::Eof) {
        if (ends.size() == 0) return body;
        syntax_error(opened, std::string("unclosed block: missing '{% ") + *(ends.end() - 1) +
                                 " %}' before the end of the template");
      }
      if (t.type == Tok::Text) {
        auto s = std::make_unique<Stmt>();
        s->kind = StmtKind::Text;
        s->pos = t.pos;
        s->text = next().text;
        body.push_back(std::move(s));
        continue;
      }
      if (t.type == Tok::VarBegin) {
        auto s = std::make_unique<Stmt>();
        s->kind = StmtKind::Output;
        s->pos = next().pos;
        s->expr = parse_tuple();
        if (peek().type != Tok::VarEnd) unexpected("'}}'");
        next();
        body.push_back(std::move(s));
        continue;
      }
      if (t.type != Tok::BlockBegin) unexpected("text or a tag");
      const Token& name = peek(1);
      for (const char* end : ends) {
        if (name.type == Tok::Name && name.text == end) {
          next();
          return body;
        }
      }
      next();
      if (StmtPtr s = parse_statement()) body.push_back(std::move(s));
    }
  }

  StmtPtr make_stmt(StmtKind kind, Pos pos) {
    auto s = std::make_unique<Stmt>();
    s->kind = kind;
    s->pos = pos;
    return s;
  }

  StmtPtr parse_statement() {
    const Token& kw = peek();
    if (kw.type != Tok::Name) unexpected("a statement name");
    const Pos pos = kw.pos;
    const std::string name = next().text;
    if (name == "if") return parse_if(pos);
    if (name == "for") return parse_for(pos);
    if (name == "set") return parse_set(pos);
    if (name == "macro") return parse_macro(pos);
    if (name == "call") return parse_call_block(pos);
    if (name == "filter") return parse_filter_block(pos);
    if (name == "break" || name == "continue") {
      expect_block_end();
      return make_stmt(name == "break" ? StmtKind::Break : StmtKind::Continue, pos);
    }
    if (name == "do") {
      auto s = make_stmt(StmtKind::Do, pos);
      s->expr = parse_tuple();
      expect_block_end();
      return s;
    }
    if (name == "generation" || name == "endgeneration") {  // transformers' assistant-mask markers
      expect_block_end();
      return nullptr;
    }
    if (name == "include" || name == "extends" || name == "import" || name == "from" ||
        name == "block")
      syntax_error(pos, "'" + name + "' is not supported in chat templates");
    syntax_error(pos, "unknown or misplaced statement '" + name + "'");
  }

  StmtPtr parse_if(Pos pos) {
    auto s = make_stmt(StmtKind::If, pos);
    ExprPtr cond = parse_expr();
    expect_block_end();
    while (true) {
      Body body = parse_body({"elif", "else", "endif"}, pos);
      s->branches.push_back(Branch{std::move(cond), std::move(body)});
      const std::string kw = next().text;
      if (kw == "elif") {
        cond = parse_expr();
        expect_block_end();
        continue;
      }
      expect_block_end();
      if (kw == "else") {
        s->else_body = parse_body({"endif"}, pos);
        next();
        expect_block_end();
      }
      return s;
    }
  }

  void parse_targets(Stmt& s) {
    bool paren = is_op("(");
    if (paren) next();
    s.targets.push_back(expect_identifier());
    while (is_op(",")) {
      next();
      if (paren && is_op(")")) break;
      s.targets.push_back(expect_identifier());
    }
    if (paren) expect_op(")");
  }

  StmtPtr parse_for(Pos pos) {
    auto s = make_stmt(StmtKind::For, pos);
    parse_targets(*s);
    expect_name("in");
    s->expr = parse_tuple(/*allow_ternary=*/false);
    if (is_name("if")) {
      next();
      s->cond = parse_expr();
    }
    if (is_name("recursive")) syntax_error(peek().pos, "recursive loops are not supported");
    expect_block_end();
    s->body = parse_body({"else", "endfor"}, pos);
    if (next().text == "else") {
      expect_block_end();
      s->else_body = parse_body({"endfor"}, pos);
      next();
    }
    expect_block_end();
    return s;
  }

  StmtPtr parse_set(Pos pos) {
    auto s = make_stmt(StmtKind::Set, pos);
    s->targets.push_back(expect_identifier());
    if (is_op(".")) {
      next();
      s->attr = expect_identifier();
    } else {
      while (is_op(",")) {
        next();
        s->targets.push_back(expect_identifier());
      }
    }
    if (is_op("=")) {
      next();
      s->expr = parse_tuple();
      expect_block_end();
      return s;
    }
    if (s->targets.size() != 1) unexpected("'='");
    if (is_op("|")) syntax_error(peek().pos, "filtered block assignments are not supported");
    expect_block_end();
    s->body = parse_body({"endset"}, pos);
    next();
    expect_block_end();
    return s;
  }

  void parse_params(std::vector<Param>& params) {
    expect_op("(");
    while (!is_op(")")) {
      Param p;
      p.name = expect_identifier();
      if (is_op("=")) {
        next();
        p.default_value = parse_expr();
      }
      params.push_back(std::move(p));
      if (!is_op(",")) break;
      next();
    }
    expect_op(")");
  }

  StmtPtr parse_macro(Pos pos) {
    auto s = make_stmt(StmtKind::Macro, pos);
    s->text = expect_identifier();
    parse_params(s->params);
    expect_block_end();
    s->body = parse_body({"endmacro"}, pos);
    next();
    if (peek().type == Tok::Name) next();  // {% endmacro name %}
    expect_block_end();
    return s;
  }

  StmtPtr parse_call_block(Pos pos) {
    auto s = make_stmt(StmtKind::CallBlock, pos);
    if (is_op("(")) parse_params(s->params);
    s->expr = parse_expr();
    if (s->expr->kind != ExprKind::Call) syntax_error(s->expr->pos, "expected a macro call");
    expect_block_end();
    s->body = parse_body({"endcall"}, pos);
    next();
    expect_block_end();
    return s;
  }

  StmtPtr parse_filter_block(Pos pos) {
    auto s = make_stmt(StmtKind::FilterBlock, pos);
    ExprPtr chain;  // null operand: the rendered body goes there
    do {
      if (chain) next();  // '|'
      chain = parse_filter(std::move(chain));
    } while (is_op("|"));
    s->expr = std::move(chain);
    expect_block_end();
    s->body = parse_body({"endfilter"}, pos);
    next();
    expect_block_end();
    return s;
  }

  // ---- expressions ----

  ExprPtr parse_tuple(bool allow_ternary = true) {
    Pos pos = peek().pos;
    ExprPtr first = parse_expr(allow_ternary);
    if (!is_op(",")) return first;
    auto t = make(ExprKind::Tuple, pos);
    t->items.push_back(std::move(first));
    while (is_op(",")) {
      next();
      if (peek().type == Tok::VarEnd || peek().type == Tok::BlockEnd || is_name("if")) break;
      t->items.push_back(parse_expr(allow_ternary));
    }
    return t;
  }

  ExprPtr parse_expr(bool allow_ternary = true) {
    DepthGuard guard(*this);
    ExprPtr e = parse_or();
    if (!allow_ternary) return e;
    while (is_name("if")) {
      Pos pos = next().pos;
      auto t = make(ExprKind::Ternary, pos);
      t->items.push_back(parse_or());
      t->items.push_back(std::move(e));
      if (is_name("else")) {
        next();
        t->items.push_back(parse_expr());
      } else {
        t->items.push_back(nullptr);
      }
      e = std::move(t);
    }
    return e;
  }

  ExprPtr binary(BinOp op, Pos pos, ExprPtr l, ExprPtr r) {
    auto b = make(ExprKind::Binary, pos);
    b->op = op;
    b->items.push_back(std::move(l));
    b->items.push_back(std::move(r));
    return b;
  }

  ExprPtr parse_or() {
    ExprPtr l = parse_and();
    while (is_name("or")) {
      Pos pos = next().pos;
      l = binary(BinOp::Or, pos, std::move(l), parse_and());
    }
    return l;
  }

  ExprPtr parse_and() {
    ExprPtr l = parse_not();
    while (is_name("and")) {
      Pos pos = next().pos;
      l = binary(BinOp::And, pos, std::move(l), parse_not());
    }
    return l;
  }

  ExprPtr parse_not() {
    if (is_name("not")) {
      DepthGuard guard(*this);
      auto u = make(ExprKind::Unary, next().pos);
      u->name = "not";
      u->items.push_back(parse_not());
      return u;
    }
    return parse_compare();
  }

  ExprPtr parse_compare() {
    ExprPtr l = parse_math1();
    while (true) {
      Pos pos = peek().pos;
      BinOp op;
      if (is_op("=="))
        op = BinOp::Eq;
      else if (is_op("!="))
        op = BinOp::Ne;
      else if (is_op("<"))
        op = BinOp::Lt;
      else if (is_op("<="))
        op = BinOp::Le;
      else if (is_op(">"))
        op = BinOp::Gt;
      else if (is_op(">="))
        op = BinOp::Ge;
      else if (is_name("in"))
        op = BinOp::In;
      else if (is_name("not") && is_name("in", 1)) {
        next();
        op = BinOp::NotIn;
      } else {
        return l;
      }
      next();
      l = binary(op, pos, std::move(l), parse_math1());
    }
  }

  ExprPtr parse_math1() {
    ExprPtr l = parse_concat();
    while (is_op("+") || is_op("-")) {
      Pos pos = peek().pos;
      BinOp op = next().text == "+" ? BinOp::Add : BinOp::Sub;
      l = binary(op, pos, std::move(l), parse_concat());
    }
    return l;
  }

  ExprPtr parse_concat() {
    ExprPtr l = parse_math2();
    while (is_op("~")) {
      Pos pos = next().pos;
      l = binary(BinOp::Concat, pos, std::move(l), parse_math2());
    }
    return l;
  }

  ExprPtr parse_math2() {
    ExprPtr l = parse_pow();
    while (is_op("*") || is_op("/") || is_op("//") || is_op("%")) {
      Pos pos = peek().pos;
      const std::string& t = next().text;
      BinOp op = t == "*"    ? BinOp::Mul
                 : t == "/"  ? BinOp::Div
                 : t == "//" ? BinOp::FloorDiv
                             : BinOp::Mod;
      l = binary(op, pos, std::move(l), parse_pow());
    }
    return l;
  }

  ExprPtr parse_pow() {
    ExprPtr l = parse_unary(true);
    while (is_op("**")) {
      Pos pos = next().pos;
      l = binary(BinOp::Pow, pos, std::move(l), parse_unary(true));
    }
    return l;
  }

  ExprPtr parse_unary(bool with_filter) {
    DepthGuard guard(*this);
    ExprPtr node;
    if (is_op("-") || is_op("+")) {
      auto u = make(ExprKind::Unary, peek().pos);
      u->name = next().text;
      u->items.push_back(parse_unary(false));
      node = std::move(u);
    } else {
      node = parse_primary();
    }
    node = parse_postfix(std::move(node));
    if (with_filter) node = parse_filters_and_tests(std::move(node));
    return node;
  }

  ExprPtr parse_primary() {
    const Token& t = peek();
    Pos pos = t.pos;
    switch (t.type) {
      case Tok::Name: {
        std::string name = next().text;
        auto lit = make(ExprKind::Literal, pos);
        if (name == "true" || name == "True")
          lit->literal = Value(true);
        else if (name == "false" || name == "False")
          lit->literal = Value(false);
        else if (name == "none" || name == "None")
          lit->literal = Value::none();
        else {
          auto n = make(ExprKind::Name, pos);
          n->name = std::move(name);
          return n;
        }
        return lit;
      }
      case Tok::String: {
        std::string s = next().text;
        while (peek().type == Tok::String) s += next().text;  // "a" "b" concatenates
        auto lit = make(ExprKind::Literal, pos);
        lit->literal = Value(std::move(s));
        return lit;
      }
      case Tok::Int: {
        auto lit = make(ExprKind::Literal, pos);
        lit->literal = Value(next().int_value);
        return lit;
      }
      case Tok::Float: {
        auto lit = make(ExprKind::Literal, pos);
        lit->literal = Value(next().float_value);
        return lit;
      }
      case Tok::Op:
        if (t.text == "(") {
          next();
          if (is_op(")")) {
            next();
            return make(ExprKind::Tuple, pos);
          }
          ExprPtr e = parse_expr();
          if (is_op(",")) {
            auto tup = make(ExprKind::Tuple, pos);
            tup->items.push_back(std::move(e));
            while (is_op(",")) {
              next();
              if (is_op(")")) break;
              tup->items.push_back(parse_expr());
            }
            e = std::move(tup);
          }
          expect_op(")");
          return e;
        }
        if (t.text == "[") {
          next();
          auto list = make(ExprKind::List, pos);
          while (!is_op("]")) {
            list->items.push_back(parse_expr());
            if (!is_op(",")) break;
            next();
          }
          expect_op("]");
          return list;
        }
        if (t.text == "{") {
          next();
          auto dict = make(ExprKind::Dict, pos);
          while (!is_op("}")) {
            dict->items.push_back(parse_expr());
            expect_op(":");
            dict->items.push_back(parse_expr());
            if (!is_op(",")) break;
            next();
          }
          expect_op("}");
          return dict;
        }
        break;
      default:
        break;
    }
    unexpected("an expression");
  }

  void parse_call_args(std::vector<Arg>& args) {
    expect_op("(");
    while (!is_op(")")) {
      Arg a;
      if (is_op("*") || is_op("**")) {
        a.name = next().text;  // "*" / "**": unpacking
      } else if (peek().type == Tok::Name && is_op("=", 1)) {
        a.name = next().text;
        next();
      }
      a.value = parse_expr();
      args.push_back(std::move(a));
      if (!is_op(",")) break;
      next();
    }
    expect_op(")");
  }

  ExprPtr parse_postfix(ExprPtr node) {
    while (true) {
      Pos pos = peek().pos;
      if (is_op(".")) {
        next();
        if (peek().type == Tok::Int) {  // foo.0 is foo[0]
          auto idx = make(ExprKind::Index, pos);
          auto lit = make(ExprKind::Literal, peek().pos);
          lit->literal = Value(next().int_value);
          idx->items.push_back(std::move(node));
          idx->items.push_back(std::move(lit));
          node = std::move(idx);
          continue;
        }
        auto a = make(ExprKind::Attr, pos);
        a->name = expect_identifier();
        a->items.push_back(std::move(node));
        node = std::move(a);
      } else if (is_op("[")) {
        next();
        node = parse_subscript(std::move(node), pos);
        expect_op("]");
      } else if (is_op("(")) {
        auto c = make(ExprKind::Call, node->pos);  // errors point at the callee
        c->items.push_back(std::move(node));
        parse_call_args(c->args);
        node = std::move(c);
      } else {
        return node;
      }
    }
  }

  ExprPtr parse_subscript(ExprPtr object, Pos pos) {
    ExprPtr parts[3];
    int n = 0;  // colons seen
    if (!is_op(":")) parts[0] = parse_expr();
    while (is_op(":") && n < 2) {
      next();
      ++n;
      if (!is_op(":") && !is_op("]")) parts[n] = parse_expr();
    }
    if (n == 0) {
      auto idx = make(ExprKind::Index, pos);
      idx->items.push_back(std::move(object));
      idx->items.push_back(std::move(parts[0]));
      return idx;
    }
    auto sl = make(ExprKind::Slice, pos);
    sl->items.push_back(std::move(object));
    for (auto& p : parts) sl->items.push_back(std::move(p));
    return sl;
  }

  ExprPtr parse_filter(ExprPtr operand) {
    auto f = make(ExprKind::Filter, peek().pos);
    f->name = expect_identifier();
    while (is_op(".")) {  // dotted filter names exist in Jinja extensions; keep the full name
      next();
      f->name += '.';
      f->name += expect_identifier();
    }
    if (is_op("(")) parse_call_args(f->args);
    f->items.push_back(std::move(operand));
    return f;
  }

  ExprPtr parse_filters_and_tests(ExprPtr node) {
    while (true) {
      if (is_op("|")) {
        next();
        node = parse_filter(std::move(node));
      } else if (is_name("is")) {
        auto t = make(ExprKind::Test, next().pos);
        if (is_name("not")) {
          next();
          t->negate = true;
        }
        // `is none`, `is true` etc.: the test names are keywords here, not literals.
        if (peek().type != Tok::Name) unexpected("a test name");
        t->name = next().text;
        if (is_op("(")) {
          parse_call_args(t->args);
        } else if (takes_bare_argument(t->name) && starts_primary()) {
          Arg a;
          a.value = parse_postfix(parse_primary());
          t->args.push_back(std::move(a));
        }
        t->items.push_back(std::move(node));
        node = std::move(t);
      } else {
        return node;
      }
    }
  }

  static bool takes_bare_argument(const std::string& test) {
    for (const char* t : {"divisibleby", "equalto", "eq", "ne", "sameas", "gt", "ge", "lt", "le",
                          "greaterthan", "lessthan", "in", "=="})
      if (test == t) return true;
    return false;
  }

  bool starts_primary() const {
    const Token& t = peek();
    if (t.type == Tok::Name)
      return t.text != "else" && t.text != "or" && t.text != "and" && t.text != "if";
    if (t.type == Tok::String || t.type == Tok::Int || t.type == Tok::Float) return true;
    return is_op("(") || is_op("[") || is_op("{");
  }

  const std::vector<Token>& toks_;
  size_t pos_ = 0;
  int depth_ = 0;
};

}  // namespace

Body parse_template(const std::vector<Token>& tokens) {
  return Parser(tokens).parse();
}

}  // namespace rlx::text::jinja
