// Builtin filters (`x | name(args)`) and tests (`x is name(args)`), with Jinja2's argument names
// so that keyword calls such as `tojson(indent=2)` and `map(attribute='name')` work.
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "text/jinja/interpreter.h"

namespace rlx::text::jinja {

namespace {

const Value* opt(const CallArgs& a, size_t i, const char* name) {
  const Value* v = a.get(i, name);
  return v && !v->is_none() && !v->is_undefined() ? v : nullptr;
}

bool flag(const CallArgs& a, size_t i, const char* name, bool def) {
  const Value* v = opt(a, i, name);
  return v ? v->truthy() : def;
}

int64_t int_opt(const CallArgs& a, size_t i, const char* name, int64_t def) {
  const Value* v = opt(a, i, name);
  if (!v) return def;
  if (v->is_int()) return v->as_int();
  if (v->is_bool()) return v->as_bool();
  if (v->is_float()) return int64_t(v->as_float());
  throw EvalError(std::string("argument '") + name + "' must be a number");
}

// `attribute='a.b.0'` lookups of sort/map/selectattr/sum/unique.
Value attribute_path(const Value& item, const Value& path) {
  if (path.is_int()) return get_item(item, path);
  if (!path.is_string()) throw EvalError("attribute must be a string or an integer");
  Value v = item;
  size_t start = 0;
  const std::string& p = path.str();
  while (true) {
    size_t dot = p.find('.', start);
    std::string part = p.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    bool numeric = !part.empty() && std::all_of(part.begin(), part.end(), ::isdigit);
    if (numeric && v.is_array())
      v = get_item(v, Value(int64_t(std::strtoll(part.c_str(), nullptr, 10))));
    else
      v = v.is_object() ? get_attribute(v, part) : Value::undefined(part);
    if (v.is_function()) v = Value::undefined(part);  // a method is not an attribute here
    if (dot == std::string::npos) return v;
    start = dot + 1;
  }
}

Value fold_case(const Value& v, bool case_sensitive) {
  return !case_sensitive && v.is_string() ? Value(to_lower(v.str())) : v;
}

Value sorted(Array items, const CallArgs& a, size_t first_arg) {
  bool reverse = flag(a, first_arg, "reverse", false);
  bool case_sensitive = flag(a, first_arg + 1, "case_sensitive", false);
  const Value* attr = opt(a, first_arg + 2, "attribute");
  auto key = [&](const Value& v) {
    return fold_case(attr ? attribute_path(v, *attr) : v, case_sensitive);
  };
  std::stable_sort(items.begin(), items.end(), [&](const Value& x, const Value& y) {
    int c = compare_values(key(x), key(y));
    return reverse ? c > 0 : c < 0;
  });
  return Value(std::move(items));
}

std::string html_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&#34;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// Jinja's `round`: 'common' rounds half away from zero.
double round_to(double v, int64_t precision, const std::string& method) {
  double scale = std::pow(10.0, double(precision));
  double x = v * scale;
  if (method == "ceil")
    x = std::ceil(x);
  else if (method == "floor")
    x = std::floor(x);
  else if (method == "common")
    x = std::round(x);
  else
    throw EvalError("round(): method must be 'common', 'ceil' or 'floor'");
  return x / scale;
}

Value parse_number(const std::string& s, bool want_int, const Value& def) {
  std::string t = strip_chars(s, nullptr, true, true);
  if (t.empty()) return def;
  char* end = nullptr;
  if (want_int) {
    errno = 0;
    long long i = std::strtoll(t.c_str(), &end, 10);
    if (end && *end == '\0' && errno == 0) return Value(int64_t(i));
  }
  double d = std::strtod(t.c_str(), &end);
  if (!end || *end != '\0' || t == "nan" || t == "inf") return def;
  if (!want_int) return Value(d);
  if (!std::isfinite(d) || std::fabs(d) > 9.2e18) return def;
  return Value(int64_t(d));
}

std::string indent_text(const std::string& s, const Value* width, bool first, bool blank) {
  std::string pad = "    ";
  if (width && width->is_string())
    pad = width->str();
  else if (width)
    pad = std::string(size_t(std::clamp<int64_t>(width->as_int(), 0, 1000)), ' ');
  std::string out;
  size_t start = 0;
  bool is_first = true;
  while (true) {
    size_t nl = s.find('\n', start);
    std::string line = s.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
    bool skip = (is_first && !first) || (!blank && strip_chars(line, nullptr, true, true).empty());
    if (!is_first) out += '\n';
    if (!skip) out += pad;
    out += line;
    is_first = false;
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  return out;
}

CallArgs shift_args(const CallArgs& a, size_t n) {
  CallArgs out;
  for (size_t i = n; i < a.pos.size(); ++i) out.pos.push_back(a.pos[i]);
  out.kw = a.kw;
  return out;
}

// select/reject/selectattr/rejectattr.
Value select_items(Interpreter& in, const Value& seq, const CallArgs& a, bool by_attr, bool keep) {
  const Value* attr = nullptr;
  size_t next = 0;
  if (by_attr) {
    attr = a.get(0, "attribute");
    if (!attr) throw EvalError("selectattr/rejectattr need an attribute name");
    next = 1;
  }
  const Value* test = next < a.pos.size() ? &a.pos[next] : nullptr;
  if (test && !test->is_string()) throw EvalError("the test name must be a string");
  CallArgs test_args = shift_args(a, next + 1);
  test_args.kw.clear();
  Array out;
  for (const Value& item : iterate(seq)) {
    Value v = attr ? attribute_path(item, *attr) : item;
    bool ok = test ? apply_test(in, test->str(), v, test_args) : v.truthy();
    if (ok == keep) out.push_back(item);
  }
  return Value(std::move(out));
}

}  // namespace

Value apply_filter(Interpreter& in, const std::string& name, const Value& v, CallArgs& a) {
  in.tick();
  if (name == "safe" || name == "e" || name == "escape" || name == "forceescape") {
    if (name == "safe") return v;
    return Value(html_escape(to_output(v)));
  }
  if (name == "tojson") {
    JsonOptions o;
    o.indent = int(std::clamp<int64_t>(int_opt(a, 0, "indent", -1), -1, 64));
    o.ensure_ascii = flag(a, SIZE_MAX, "ensure_ascii", false);
    o.sort_keys = flag(a, SIZE_MAX, "sort_keys", false);
    if (const Value* sep = opt(a, SIZE_MAX, "separators")) {
      if (!sep->is_array() || sep->array().size() != 2 || !sep->array()[0].is_string() ||
          !sep->array()[1].is_string())
        throw EvalError("separators must be a pair of strings");
      o.item_sep = sep->array()[0].str();
      o.key_sep = sep->array()[1].str();
    }
    std::string s = to_json(v, o);
    return Value(std::move(s));
  }
  if (name == "default" || name == "d") {
    const Value* def = a.get(0, "default_value");
    bool boolean = flag(a, 1, "boolean", false);
    if (v.is_undefined() || (boolean && !v.truthy())) return def ? *def : Value(std::string());
    return v;
  }
  if (name == "length" || name == "count") {
    if (v.is_string()) return Value(int64_t(utf8_length(v.str())));
    if (v.is_array()) return Value(int64_t(v.array().size()));
    if (v.is_object()) return Value(int64_t(v.object().items.size()));
    if (v.is_undefined()) return Value(int64_t(0));
    throw EvalError(std::string("object of type ") + v.type_name() + " has no length");
  }
  if (name == "string") return v.is_none() ? Value("None") : Value(to_output(v));
  if (name == "list") return Value(iterate(v));
  if (name == "bool") return Value(v.truthy());
  if (name == "first" || name == "last") {
    Array items = iterate(v);
    if (items.empty()) return Value::undefined();
    return name == "first" ? items.front() : items.back();
  }
  if (name == "reverse") {
    if (v.is_string()) {
      std::vector<std::string> chars = utf8_chars(v.str());
      std::string out;
      for (auto it = chars.rbegin(); it != chars.rend(); ++it) out += *it;
      return Value(std::move(out));
    }
    Array items = iterate(v);
    std::reverse(items.begin(), items.end());
    return Value(std::move(items));
  }
  if (name == "sort") return sorted(iterate(v), a, 0);
  if (name == "dictsort") {
    if (!v.is_object()) throw EvalError("dictsort expects a mapping");
    bool case_sensitive = flag(a, 0, "case_sensitive", false);
    const Value* by = opt(a, 1, "by");
    bool by_value = by && by->is_string() && by->str() == "value";
    bool reverse = flag(a, 2, "reverse", false);
    Array items;
    for (const auto& [k, x] : v.object().items) items.push_back(Value(Array{Value(k), x}, true));
    std::stable_sort(items.begin(), items.end(), [&](const Value& p, const Value& q) {
      int c = compare_values(fold_case(p.array()[by_value], case_sensitive),
                             fold_case(q.array()[by_value], case_sensitive));
      return reverse ? c > 0 : c < 0;
    });
    return Value(std::move(items));
  }
  if (name == "items") {
    if (v.is_undefined()) return Value(Array{});
    if (!v.is_object())
      throw EvalError(std::string("items expects a mapping, got ") + v.type_name());
    Array items;
    for (const auto& [k, x] : v.object().items) items.push_back(Value(Array{Value(k), x}, true));
    return Value(std::move(items));
  }
  if (name == "unique") {
    bool case_sensitive = flag(a, 0, "case_sensitive", false);
    const Value* attr = opt(a, 1, "attribute");
    Array out, keys;
    for (const Value& item : iterate(v)) {
      Value k = fold_case(attr ? attribute_path(item, *attr) : item, case_sensitive);
      bool seen = false;
      for (const Value& s : keys) seen = seen || values_equal(s, k);
      if (!seen) {
        keys.push_back(k);
        out.push_back(item);
      }
    }
    return Value(std::move(out));
  }
  if (name == "join") {
    const Value* sep = opt(a, 0, "d");
    const Value* attr = opt(a, 1, "attribute");
    std::string out;
    bool first = true;
    for (const Value& item : iterate(v)) {
      if (!first && sep) append_output(out, *sep);
      first = false;
      append_output(out, attr ? attribute_path(item, *attr) : item);
    }
    return Value(std::move(out));
  }
  if (name == "map") {
    Array out;
    const Value* attr = opt(a, SIZE_MAX, "attribute");
    if (attr) {
      const Value* def = a.get(SIZE_MAX, "default");
      for (const Value& item : iterate(v)) {
        Value x = attribute_path(item, *attr);
        out.push_back(x.is_undefined() && def ? *def : x);
      }
      return Value(std::move(out));
    }
    if (a.pos.empty() || !a.pos[0].is_string())
      throw EvalError("map() needs a filter name or attribute=");
    CallArgs rest = shift_args(a, 1);
    for (const Value& item : iterate(v)) {
      CallArgs copy = rest;
      out.push_back(apply_filter(in, a.pos[0].str(), item, copy));
    }
    return Value(std::move(out));
  }
  if (name == "select" || name == "reject") return select_items(in, v, a, false, name == "select");
  if (name == "selectattr" || name == "rejectattr")
    return select_items(in, v, a, true, name == "selectattr");
  if (name == "attr") {
    const Value* n = a.get(0, "name");
    return n && n->is_string() ? get_attribute(v, n->str()) : Value::undefined();
  }
  if (name == "sum" || name == "min" || name == "max") {
    if (name == "sum") {
      const Value* attr = opt(a, 0, "attribute");
      const Value* start = opt(a, 1, "start");
      Value total = start ? *start : Value(int64_t(0));
      for (const Value& item : iterate(v)) {
        Value x = attr ? attribute_path(item, *attr) : item;
        if (!(x.is_number() || x.is_bool()) || !(total.is_number() || total.is_bool()))
          throw EvalError("sum() of non-numbers");
        if (total.is_float() || x.is_float())
          total = Value(total.as_number() + x.as_number());
        else
          total = Value(int64_t(total.as_number()) + int64_t(x.as_number()));
      }
      return total;
    }
    bool case_sensitive = flag(a, 0, "case_sensitive", false);
    const Value* attr = opt(a, 1, "attribute");
    Array items = iterate(v);
    if (items.empty()) return Value::undefined();
    size_t best = 0;
    for (size_t i = 1; i < items.size(); ++i) {
      auto key = [&](size_t k) {
        return fold_case(attr ? attribute_path(items[k], *attr) : items[k], case_sensitive);
      };
      int c = compare_values(key(i), key(best));
      if (name == "min" ? c < 0 : c > 0) best = i;
    }
    return items[best];
  }
  if (name == "abs") {
    if (v.is_int()) {
      if (v.as_int() == INT64_MIN) throw EvalError("integer overflow");
      return Value(v.as_int() < 0 ? -v.as_int() : v.as_int());
    }
    if (v.is_float()) return Value(std::fabs(v.as_float()));
    if (v.is_bool()) return Value(int64_t(v.as_bool()));
    throw EvalError(std::string("bad operand type for abs(): ") + v.type_name());
  }
  if (name == "int" || name == "float") {
    const bool want_int = name == "int";
    const Value* d = a.get(0, "default");
    Value def = d ? *d : want_int ? Value(int64_t(0)) : Value(0.0);
    if (v.is_string()) return parse_number(v.str(), want_int, def);
    if (v.is_bool()) return want_int ? Value(int64_t(v.as_bool())) : Value(double(v.as_bool()));
    if (v.is_int()) return want_int ? v : Value(double(v.as_int()));
    if (v.is_float()) {
      if (!want_int) return v;
      double f = std::trunc(v.as_float());
      return std::isfinite(f) && std::fabs(f) < 9.2e18 ? Value(int64_t(f)) : def;
    }
    return def;
  }
  if (name == "round") {
    if (!v.is_number() && !v.is_bool()) throw EvalError("round() expects a number");
    const Value* method = opt(a, 1, "method");
    return Value(round_to(v.as_number(), int_opt(a, 0, "precision", 0),
                          method && method->is_string() ? method->str() : "common"));
  }
  // String filters; like Jinja they print non-strings first.
  const std::string s = v.is_string() ? v.str() : to_output(v);
  if (name == "trim") return Value(strip_chars(s, opt(a, 0, "chars"), true, true));
  if (name == "upper") return Value(to_upper(s));
  if (name == "lower") return Value(to_lower(s));
  if (name == "title") return Value(title_case(s));
  if (name == "capitalize") return Value(capitalize(s));
  if (name == "replace") {
    const Value* from = a.get(0, "old");
    const Value* to = a.get(1, "new");
    if (!from || !to) throw EvalError("replace() needs two arguments");
    return Value(replace_all(s, to_output(*from), to_output(*to), int_opt(a, 2, "count", -1)));
  }
  if (name == "indent")
    return Value(
        indent_text(s, opt(a, 0, "width"), flag(a, 1, "first", false), flag(a, 2, "blank", false)));
  if (name == "wordcount") {
    int64_t n = 0;
    bool in_word = false;
    for (char c : s) {
      bool w = isalnum(static_cast<unsigned char>(c)) || c == '_' ||
               (static_cast<unsigned char>(c) >= 0x80);
      if (w && !in_word) ++n;
      in_word = w;
    }
    return Value(n);
  }
  if (name == "format") {
    // printf-style: %s %d %i %f %r %%.
    std::string out;
    size_t k = 0;
    for (size_t i = 0; i < s.size(); ++i) {
      if (s[i] != '%' || i + 1 >= s.size()) {
        out += s[i];
        continue;
      }
      char c = s[++i];
      if (c == '%') {
        out += '%';
        continue;
      }
      if (k >= a.pos.size()) throw EvalError("format(): not enough arguments");
      const Value& x = a.pos[k++];
      if (c == 'd' || c == 'i')
        out += std::to_string(int64_t(x.as_number()));
      else
        out += to_output(x);
    }
    return Value(std::move(out));
  }
  throw EvalError("unknown filter '" + name + "'");
}

bool apply_test(Interpreter& in, const std::string& name, const Value& v, CallArgs& a) {
  auto other = [&]() -> const Value& {
    const Value* o = a.get(0, "other");
    if (!o) throw EvalError("test '" + name + "' needs an argument");
    return *o;
  };
  if (name == "defined") return !v.is_undefined();
  if (name == "undefined") return v.is_undefined();
  if (name == "none") return v.is_none();
  if (name == "boolean") return v.is_bool();
  if (name == "true") return v.is_bool() && v.as_bool();
  if (name == "false") return v.is_bool() && !v.as_bool();
  if (name == "integer") return v.is_int();
  if (name == "float") return v.is_float();
  if (name == "number") return v.is_number();
  if (name == "string") return v.is_string();
  if (name == "mapping") return v.is_object() && !v.is_namespace();
  if (name == "iterable") return v.is_array() || v.is_string() || v.is_object();
  if (name == "sequence") return v.is_array() || v.is_string() || v.is_object();
  if (name == "callable") return v.is_function();
  if (name == "lower") return v.is_string() && to_lower(v.str()) == v.str();
  if (name == "upper") return v.is_string() && to_upper(v.str()) == v.str();
  if (name == "even" || name == "odd") {
    if (!v.is_int()) throw EvalError("test '" + name + "' expects an integer");
    return (v.as_int() % 2 == 0) == (name == "even");
  }
  if (name == "divisibleby") {
    const Value& n = other();
    if (!v.is_int() || !n.is_int() || n.as_int() == 0)
      throw EvalError("divisibleby expects non-zero integers");
    return n.as_int() == -1 || v.as_int() % n.as_int() == 0;
  }
  if (name == "eq" || name == "equalto" || name == "==") return values_equal(v, other());
  if (name == "ne" || name == "!=") return !values_equal(v, other());
  if (name == "sameas") {
    const Value& o = other();
    if (v.kind() != o.kind()) return false;
    if (v.is_array()) return &v.array() == &o.array();
    if (v.is_object()) return &v.object() == &o.object();
    return values_equal(v, o);
  }
  if (name == "lt" || name == "lessthan") return compare_values(v, other()) < 0;
  if (name == "le") return compare_values(v, other()) <= 0;
  if (name == "gt" || name == "greaterthan") return compare_values(v, other()) > 0;
  if (name == "ge") return compare_values(v, other()) >= 0;
  if (name == "in") return contains(other(), v);
  (void)in;
  throw EvalError("unknown test '" + name + "'");
}

}  // namespace rlx::text::jinja
