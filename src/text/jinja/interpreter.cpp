#include "text/jinja/interpreter.h"

#include <cmath>

#include "rlx/core/error.h"

namespace rlx::text::jinja {

namespace {

constexpr int kMaxEvalDepth = 1500;      // nested evaluation frames (expressions + macro calls)
constexpr int kMaxMacroDepth = 100;      // recursive macro calls
constexpr uint64_t kMaxSteps = 5000000;  // statements + loop iterations per render
constexpr size_t kMaxOutput = size_t(256) << 20;  // bytes of rendered text

[[noreturn]] void fail_at(Pos pos, const std::string& msg) {
  rlx::fail("chat template {}:{}: error: {}", pos.line, pos.col, msg);
}

// Integer arithmetic that fails on overflow instead of wrapping.
template <class Op>
int64_t checked(int64_t a, int64_t b, Op op) {
  int64_t r = 0;
  if (op(a, b, &r)) throw EvalError("integer overflow");
  return r;
}

// Python's floor division and modulo for integers.
int64_t floor_div(int64_t a, int64_t b) {
  if (b == 0) throw EvalError("integer division or modulo by zero");
  if (a == INT64_MIN && b == -1) throw EvalError("integer overflow");
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

int64_t floor_mod(int64_t a, int64_t b) {
  if (b == 0) throw EvalError("integer division or modulo by zero");
  if (b == -1) return 0;
  int64_t r = a % b;
  if (r != 0 && ((r < 0) != (b < 0))) r += b;
  return r;
}

Value repeat(const Value& seq, int64_t n) {
  if (n <= 0) return seq.is_string() ? Value(std::string()) : Value(Array{});
  size_t unit = seq.is_string() ? seq.str().size() : seq.array().size();
  if (unit != 0 && uint64_t(n) > kMaxOutput / unit) throw EvalError("repetition result too large");
  if (seq.is_string()) {
    std::string out;
    out.reserve(unit * size_t(n));
    for (int64_t i = 0; i < n; ++i) out += seq.str();
    return Value(std::move(out));
  }
  Array out;
  for (int64_t i = 0; i < n; ++i) out.insert(out.end(), seq.array().begin(), seq.array().end());
  return Value(std::move(out));
}

int64_t as_index_int(const Value& v) {
  if (v.is_int()) return v.as_int();
  if (v.is_bool()) return v.as_bool();
  throw EvalError(std::string("expected an integer, got ") + v.type_name());
}

}  // namespace

const Value* Scope::lookup(const std::string& name) const {
  for (const Scope* s = this; s; s = s->parent.get()) {
    auto it = s->vars.find(name);
    if (it != s->vars.end()) return &it->second;
  }
  return nullptr;
}

struct Interpreter::DepthGuard {
  explicit DepthGuard(Interpreter& in) : in_(in) {
    if (++in_.depth_ > kMaxEvalDepth) {
      --in_.depth_;
      throw EvalError("template evaluation nested too deeply");
    }
  }
  ~DepthGuard() { --in_.depth_; }
  Interpreter& in_;
};

Interpreter::Interpreter() : globals_(std::make_shared<Scope>()) {
  add_globals(*globals_);
}

void Interpreter::tick() {
  if (++steps_ > kMaxSteps) throw EvalError("template exceeded the step budget (infinite loop?)");
}

void Interpreter::check_output(const std::string& out) const {
  if (out.size() > kMaxOutput) throw EvalError("rendered output too large");
}

std::string Interpreter::render(const Body& program, const Value& context) {
  auto top = std::make_shared<Scope>();
  top->parent = globals_;
  if (context.is_object())
    for (const auto& [k, v] : context.object().items) top->vars[k] = v;
  MutationLog log;  // breaks reference cycles the template built, when the render ends
  std::string out;
  exec(program, top, out);
  return out;
}

Interpreter::Flow Interpreter::exec(const Body& body, const ScopePtr& scope, std::string& out) {
  for (const StmtPtr& s : body) {
    Flow f = exec_stmt(*s, scope, out);
    if (f != Flow::Normal) return f;
  }
  return Flow::Normal;
}

Interpreter::Flow Interpreter::exec_stmt(const Stmt& s, const ScopePtr& scope, std::string& out) {
  try {
    tick();
    switch (s.kind) {
      case StmtKind::Text:
        out += s.text;
        check_output(out);
        return Flow::Normal;
      case StmtKind::Output:
        append_output(out, eval(*s.expr, scope));
        check_output(out);
        return Flow::Normal;
      case StmtKind::If:
        for (const Branch& b : s.branches)
          if (eval(*b.cond, scope).truthy()) return exec(b.body, scope, out);
        return exec(s.else_body, scope, out);
      case StmtKind::For:
        return exec_for(s, scope, out);
      case StmtKind::Set:
        exec_set(s, scope, out);
        return Flow::Normal;
      case StmtKind::Macro:
        scope->vars[s.text] = make_macro(s, scope, s.text.c_str());
        return Flow::Normal;
      case StmtKind::CallBlock: {
        CallArgs args;
        const Expr& call_expr = *s.expr;
        eval_args(call_expr.args, scope, args);
        args.kw.emplace_back("caller", make_macro(s, scope, "caller"));
        Value fn = eval(*call_expr.items[0], scope);
        append_output(out, call(fn, args));
        check_output(out);
        return Flow::Normal;
      }
      case StmtKind::FilterBlock: {
        std::string body;
        Flow f = exec(s.body, scope, body);
        Value operand(std::move(body));
        append_output(out, eval_filter(*s.expr, scope, &operand));
        check_output(out);
        return f;
      }
      case StmtKind::Break:
        return Flow::Break;
      case StmtKind::Continue:
        return Flow::Continue;
      case StmtKind::Do:
        eval(*s.expr, scope);
        return Flow::Normal;
    }
  } catch (const EvalError& e) {
    fail_at(s.pos, e.what());
  }
  return Flow::Normal;
}

Interpreter::Flow Interpreter::exec_for(const Stmt& s, const ScopePtr& scope, std::string& out) {
  Array all = iterate(eval(*s.expr, scope));
  auto loop_scope = std::make_shared<Scope>();
  loop_scope->parent = scope;
  auto bind = [&](const Value& item) {
    if (s.targets.size() == 1) {
      loop_scope->vars[s.targets[0]] = item;
      return;
    }
    if (!item.is_array())
      throw EvalError(std::string("cannot unpack a ") + item.type_name() + " into loop variables");
    const Array& parts = item.array();
    if (parts.size() != s.targets.size())
      throw EvalError("expected " + std::to_string(s.targets.size()) + " values to unpack, got " +
                      std::to_string(parts.size()));
    for (size_t i = 0; i < parts.size(); ++i) loop_scope->vars[s.targets[i]] = parts[i];
  };
  Array items;
  if (s.cond) {  // `for x in xs if cond`: filtered before loop.length etc. are known
    for (const Value& item : all) {
      tick();
      bind(item);
      if (eval(*s.cond, loop_scope).truthy()) items.push_back(item);
    }
  } else {
    items = std::move(all);
  }
  if (items.empty()) return exec(s.else_body, scope, out);
  const int64_t n = int64_t(items.size());
  // One `loop` object per loop, updated in place: building it per iteration dominated the cost.
  auto index = std::make_shared<int64_t>(0);
  Object init;
  for (const char* key : {"index", "index0", "revindex", "revindex0", "first", "last", "length",
                          "previtem", "nextitem"})
    init.items.emplace_back(key, Value());
  init.items.emplace_back("cycle", Value::function([index](CallArgs& a) -> Value {
                            if (a.pos.empty()) throw EvalError("loop.cycle() needs an argument");
                            return a.pos[size_t(*index) % a.pos.size()];
                          }));
  Value loop_value(std::move(init));
  for (int64_t i = 0; i < n; ++i) {
    tick();
    *index = i;
    auto& f = loop_value.object().items;
    f[0].second = Value(i + 1);
    f[1].second = Value(i);
    f[2].second = Value(n - i);
    f[3].second = Value(n - i - 1);
    f[4].second = Value(i == 0);
    f[5].second = Value(i == n - 1);
    f[6].second = Value(n);
    f[7].second = i > 0 ? items[size_t(i - 1)] : Value::undefined("previtem");
    f[8].second = i + 1 < n ? items[size_t(i + 1)] : Value::undefined("nextitem");
    loop_scope->vars["loop"] = loop_value;
    bind(items[size_t(i)]);
    if (exec(s.body, loop_scope, out) == Flow::Break) break;
  }
  return Flow::Normal;
}

void Interpreter::exec_set(const Stmt& s, const ScopePtr& scope, std::string& out) {
  Value v;
  if (s.expr) {
    v = eval(*s.expr, scope);
  } else {
    std::string body;
    exec(s.body, scope, body);
    v = Value(std::move(body));
  }
  if (!s.attr.empty()) {
    const Value* target = scope->lookup(s.targets[0]);
    if (!target || !target->is_object())
      throw EvalError("cannot assign attribute '" + s.attr + "' of '" + s.targets[0] +
                      "': not a namespace");
    note_mutation(*target);
    target->object().set(s.attr, std::move(v));
    return;
  }
  if (s.targets.size() == 1) {
    scope->vars[s.targets[0]] = std::move(v);
    return;
  }
  if (!v.is_array()) throw EvalError(std::string("cannot unpack a ") + v.type_name());
  const Array& parts = v.array();
  if (parts.size() != s.targets.size())
    throw EvalError("expected " + std::to_string(s.targets.size()) + " values to unpack, got " +
                    std::to_string(parts.size()));
  for (size_t i = 0; i < parts.size(); ++i) scope->vars[s.targets[i]] = parts[i];
}

// A macro (or a call block's `caller`) as a callable value. It refers to its defining scope
// weakly: a strong reference would form a cycle scope -> macro -> scope and leak.
Value Interpreter::make_macro(const Stmt& s, const ScopePtr& scope, const char* display_name) {
  std::weak_ptr<Scope> weak = scope;
  ScopePtr fallback = globals_;
  std::string name = display_name;
  const Stmt* def = &s;
  return Value::function([this, def, weak, fallback, name](CallArgs& args) -> Value {
    if (macro_depth_ >= kMaxMacroDepth) throw EvalError("macro '" + name + "' recursed too deeply");
    struct Guard {
      int& d;
      explicit Guard(int& x) : d(x) { ++d; }
      ~Guard() { --d; }
    } guard(macro_depth_);
    auto local = std::make_shared<Scope>();
    local->parent = weak.lock();
    if (!local->parent) local->parent = fallback;
    const auto& params = def->params;
    std::vector<bool> used_kw(args.kw.size(), false);
    std::vector<const Param*> defaults;
    for (size_t i = 0; i < params.size(); ++i) {
      const Param& p = params[i];
      if (i < args.pos.size()) {
        local->vars[p.name] = args.pos[i];
        continue;
      }
      bool found = false;
      for (size_t k = 0; k < args.kw.size(); ++k) {
        if (!used_kw[k] && args.kw[k].first == p.name) {
          local->vars[p.name] = args.kw[k].second;
          used_kw[k] = found = true;
          break;
        }
      }
      if (found) continue;
      local->vars[p.name] = Value::undefined(p.name);
      if (p.default_value) defaults.push_back(&p);
    }
    Array varargs;
    for (size_t i = params.size(); i < args.pos.size(); ++i) varargs.push_back(args.pos[i]);
    Object kwargs;
    for (size_t k = 0; k < args.kw.size(); ++k) {
      if (used_kw[k]) continue;
      if (args.kw[k].first == "caller") {
        local->vars["caller"] = args.kw[k].second;
      } else {
        kwargs.set(args.kw[k].first, args.kw[k].second);
      }
    }
    local->vars["varargs"] = Value(std::move(varargs));
    local->vars["kwargs"] = Value(std::move(kwargs));
    for (const Param* p : defaults) local->vars[p->name] = eval(*p->default_value, local);
    std::string out;
    exec(def->body, local, out);
    return Value(std::move(out));
  });
}

Value Interpreter::call(const Value& fn, CallArgs& args) {
  if (fn.is_undefined())
    throw EvalError(fn.str().empty() ? "call of an undefined value"
                                     : "'" + fn.str() + "' is undefined");
  if (!fn.is_function()) throw EvalError(std::string("a ") + fn.type_name() + " is not callable");
  return fn.fn()(args);
}

Value Interpreter::eval(const Expr& e, const ScopePtr& scope) {
  try {
    DepthGuard guard(*this);
    return eval_impl(e, scope);
  } catch (const EvalError& err) {
    fail_at(e.pos, err.what());
  } catch (const RaisedError& err) {
    rlx::fail("chat template {}:{}: raise_exception: {}", e.pos.line, e.pos.col, err.what());
  }
}

void Interpreter::eval_args(const std::vector<Arg>& args, const ScopePtr& scope, CallArgs& out) {
  for (const Arg& a : args) {
    if (a.name.empty()) {
      out.pos.push_back(eval(*a.value, scope));
    } else if (a.name == "*") {
      Value v = eval(*a.value, scope);
      for (Value& x : iterate(v)) out.pos.push_back(std::move(x));
    } else if (a.name == "**") {
      Value v = eval(*a.value, scope);
      if (!v.is_object()) throw EvalError("argument after ** must be a mapping");
      for (const auto& kv : v.object().items) out.kw.push_back(kv);
    } else {
      out.kw.emplace_back(a.name, eval(*a.value, scope));
    }
  }
}

Value Interpreter::eval_filter(const Expr& e, const ScopePtr& scope, const Value* operand) {
  Value v;
  if (!e.items[0]) {
    if (operand) v = *operand;
  } else if (e.items[0]->kind == ExprKind::Filter && operand) {
    v = eval_filter(*e.items[0], scope, operand);  // inner part of a {% filter a|b %} chain
  } else {
    v = eval(*e.items[0], scope);
  }
  CallArgs args;
  eval_args(e.args, scope, args);
  return apply_filter(*this, e.name, v, args);
}

Value Interpreter::eval_impl(const Expr& e, const ScopePtr& scope) {
  switch (e.kind) {
    case ExprKind::Literal:
      return e.literal;
    case ExprKind::Name: {
      const Value* v = scope->lookup(e.name);
      return v ? *v : Value::undefined(e.name);
    }
    case ExprKind::List:
    case ExprKind::Tuple: {
      Array a;
      a.reserve(e.items.size());
      for (const ExprPtr& x : e.items) a.push_back(eval(*x, scope));
      return Value(std::move(a), e.kind == ExprKind::Tuple);
    }
    case ExprKind::Dict: {
      Object o;
      for (size_t i = 0; i + 1 < e.items.size(); i += 2) {
        Value k = eval(*e.items[i], scope);
        if (!k.is_string() && !k.is_number() && !k.is_bool())
          throw EvalError(std::string("dict keys must be strings, got ") + k.type_name());
        o.set(k.is_string() ? k.str() : to_output(k), eval(*e.items[i + 1], scope));
      }
      return Value(std::move(o));
    }
    case ExprKind::Attr:
      return get_attribute(eval(*e.items[0], scope), e.name);
    case ExprKind::Index: {
      Value obj = eval(*e.items[0], scope);
      return get_item(obj, eval(*e.items[1], scope));
    }
    case ExprKind::Slice: {
      Value obj = eval(*e.items[0], scope);
      Value part[3];
      for (int i = 0; i < 3; ++i)
        if (e.items[size_t(i) + 1]) part[i] = eval(*e.items[size_t(i) + 1], scope);
      auto opt = [](const Value& v, bool& has) -> int64_t {
        has = !(v.is_undefined() || v.is_none());
        return has ? as_index_int(v) : 0;
      };
      bool has_start, has_stop, has_step;
      int64_t start = opt(part[0], has_start), stop = opt(part[1], has_stop),
              step = opt(part[2], has_step);
      if (!has_step) step = 1;
      if (step == 0) throw EvalError("slice step cannot be zero");
      std::vector<std::string> chars;
      const bool is_str = obj.is_string();
      if (is_str)
        chars = utf8_chars(obj.str());
      else if (!obj.is_array())
        throw EvalError(std::string("cannot slice a ") + obj.type_name());
      const int64_t len = is_str ? int64_t(chars.size()) : int64_t(obj.array().size());
      // Python's slice.indices().
      auto clamp = [&](int64_t v, bool has, int64_t def) {
        if (!has) return def;
        if (v < 0) v += len;
        if (step > 0) return std::clamp<int64_t>(v, 0, len);
        return std::clamp<int64_t>(v, -1, len - 1);
      };
      start = clamp(start, has_start, step > 0 ? 0 : len - 1);
      stop = clamp(stop, has_stop, step > 0 ? len : -1);
      std::string s;
      Array a;
      for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) {
        if (is_str)
          s += chars[size_t(i)];
        else
          a.push_back(obj.array()[size_t(i)]);
      }
      return is_str ? Value(std::move(s)) : Value(std::move(a));
    }
    case ExprKind::Call: {
      Value fn = eval(*e.items[0], scope);
      CallArgs args;
      eval_args(e.args, scope, args);
      return call(fn, args);
    }
    case ExprKind::Filter:
      return eval_filter(e, scope, nullptr);
    case ExprKind::Test: {
      Value v = eval(*e.items[0], scope);
      CallArgs args;
      eval_args(e.args, scope, args);
      return Value(apply_test(*this, e.name, v, args) != e.negate);
    }
    case ExprKind::Unary: {
      Value v = eval(*e.items[0], scope);
      if (e.name == "not") return Value(!v.truthy());
      if (!v.is_number() && !v.is_bool())
        throw EvalError("bad operand type for unary " + e.name + ": " + v.type_name());
      if (e.name == "+") return v.is_bool() ? Value(int64_t(v.as_bool())) : v;
      if (v.is_float()) return Value(-v.as_float());
      int64_t i = v.is_bool() ? v.as_bool() : v.as_int();
      if (i == INT64_MIN) throw EvalError("integer overflow");
      return Value(-i);
    }
    case ExprKind::Binary:
      return eval_binary(e, scope);
    case ExprKind::Ternary:
      if (eval(*e.items[0], scope).truthy()) return eval(*e.items[1], scope);
      return e.items[2] ? eval(*e.items[2], scope) : Value::undefined();
  }
  return Value();
}

Value Interpreter::eval_binary(const Expr& e, const ScopePtr& scope) {
  Value l = eval(*e.items[0], scope);
  if (e.op == BinOp::And) return l.truthy() ? eval(*e.items[1], scope) : l;
  if (e.op == BinOp::Or) return l.truthy() ? l : eval(*e.items[1], scope);
  Value r = eval(*e.items[1], scope);
  switch (e.op) {
    case BinOp::Eq:
      return Value(values_equal(l, r));
    case BinOp::Ne:
      return Value(!values_equal(l, r));
    case BinOp::Lt:
      return Value(compare_values(l, r) < 0);
    case BinOp::Le:
      return Value(compare_values(l, r) <= 0);
    case BinOp::Gt:
      return Value(compare_values(l, r) > 0);
    case BinOp::Ge:
      return Value(compare_values(l, r) >= 0);
    case BinOp::In:
      return Value(contains(r, l));
    case BinOp::NotIn:
      return Value(!contains(r, l));
    case BinOp::Concat: {
      std::string s = to_output(l);
      append_output(s, r);
      if (s.size() > kMaxOutput) throw EvalError("string too large");
      return Value(std::move(s));
    }
    default:
      break;
  }
  for (const Value* v : {&l, &r})
    if (v->is_undefined())
      throw EvalError(v->str().empty() ? "operation on an undefined value"
                                       : "'" + v->str() + "' is undefined");
  const bool lnum = l.is_number() || l.is_bool(), rnum = r.is_number() || r.is_bool();
  if (lnum && rnum) {
    const bool fl = l.is_float() || r.is_float();
    auto iv = [](const Value& v) { return v.is_bool() ? int64_t(v.as_bool()) : v.as_int(); };
    const double a = l.as_number(), b = r.as_number();
    int64_t x = fl ? 0 : iv(l), y = fl ? 0 : iv(r);
    auto add = [](int64_t p, int64_t q, int64_t* r) { return __builtin_add_overflow(p, q, r); };
    auto sub = [](int64_t p, int64_t q, int64_t* r) { return __builtin_sub_overflow(p, q, r); };
    auto mul = [](int64_t p, int64_t q, int64_t* r) { return __builtin_mul_overflow(p, q, r); };
    switch (e.op) {
      case BinOp::Add:
        return fl ? Value(a + b) : Value(checked(x, y, add));
      case BinOp::Sub:
        return fl ? Value(a - b) : Value(checked(x, y, sub));
      case BinOp::Mul:
        return fl ? Value(a * b) : Value(checked(x, y, mul));
      case BinOp::Div:
        if (b == 0) throw EvalError("division by zero");
        return Value(a / b);
      case BinOp::FloorDiv:
        if (!fl) return Value(floor_div(x, y));
        if (b == 0) throw EvalError("division by zero");
        return Value(std::floor(a / b));
      case BinOp::Mod:
        if (!fl) return Value(floor_mod(x, y));
        if (b == 0) throw EvalError("modulo by zero");
        return Value(a - b * std::floor(a / b));
      case BinOp::Pow: {
        if (!fl && y >= 0) {
          int64_t acc = 1;
          for (int64_t i = 0; i < y; ++i) {
            if (__builtin_mul_overflow(acc, x, &acc)) throw EvalError("integer overflow");
            if (acc == 0 || acc == 1) break;
          }
          if (acc == 1 && x == -1 && y % 2 == 1) acc = -1;
          return Value(acc);
        }
        if (a == 0 && b < 0) throw EvalError("0.0 cannot be raised to a negative power");
        return Value(std::pow(a, b));
      }
      default:
        break;
    }
  }
  if (e.op == BinOp::Add) {
    if (l.is_array() && r.is_array()) {
      Array out = l.array();
      out.insert(out.end(), r.array().begin(), r.array().end());
      return Value(std::move(out));
    }
    // String + anything concatenates (as @huggingface/jinja; Python would raise).
    if (l.is_string() || r.is_string()) {
      std::string s = to_output(l);
      append_output(s, r);
      if (s.size() > kMaxOutput) throw EvalError("string too large");
      return Value(std::move(s));
    }
  }
  if (e.op == BinOp::Mul) {
    if ((l.is_string() || l.is_array()) && (r.is_int() || r.is_bool()))
      return repeat(l, as_index_int(r));
    if ((r.is_string() || r.is_array()) && (l.is_int() || l.is_bool()))
      return repeat(r, as_index_int(l));
  }
  static const char* kNames[] = {"+", "-", "*", "/", "//", "%", "**", "~"};
  throw EvalError(std::string("unsupported operand types for ") + kNames[int(e.op)] + ": " +
                  l.type_name() + " and " + r.type_name());
}

}  // namespace rlx::text::jinja
