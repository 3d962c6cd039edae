// Attribute access, Python-style methods of strings, lists and dicts (`s.strip()`,
// `d.items()`, `l.append(x)`), and the global functions (range, namespace, raise_exception,
// strftime_now, dict).
#include <algorithm>
#include <cstring>
#include <ctime>

#include "text/jinja/interpreter.h"

namespace rlx::text::jinja {

namespace {

constexpr int64_t kMaxRange = 1000000;  // elements of range(): bounds memory on hostile input

const Value& arg(const CallArgs& a, size_t i, const char* name, const char* fn) {
  const Value* v = a.get(i, name);
  if (!v) throw EvalError(std::string(fn) + "() missing argument '" + name + "'");
  return *v;
}

const Value* opt_arg(const CallArgs& a, size_t i, const char* name) {
  const Value* v = a.get(i, name);
  return v && !v->is_none() && !v->is_undefined() ? v : nullptr;
}

const std::string& str_arg(const CallArgs& a, size_t i, const char* name, const char* fn) {
  const Value& v = arg(a, i, name, fn);
  if (!v.is_string())
    throw EvalError(std::string(fn) + "() argument '" + name + "' must be a string");
  return v.str();
}

int64_t int_arg(const CallArgs& a, size_t i, const char* name, int64_t def) {
  const Value* v = opt_arg(a, i, name);
  if (!v) return def;
  if (v->is_int()) return v->as_int();
  if (v->is_bool()) return v->as_bool();
  throw EvalError(std::string("argument '") + name + "' must be an integer");
}

// Unicode whitespace as Python's str.isspace() (ASCII, NEL, NBSP, U+2000..U+200A, ...).
size_t space_len_at(const std::string& s, size_t i) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  if (c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f)) return 1;
  auto at = [&](const char* seq) { return s.compare(i, std::strlen(seq), seq) == 0; };
  if (c == 0xc2 && (at("\xc2\x85") || at("\xc2\xa0"))) return 2;
  if (c == 0xe1 && at("\xe1\x9a\x80")) return 3;
  if (c == 0xe2) {
    if (i + 2 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0x80) {
      unsigned char d = static_cast<unsigned char>(s[i + 2]);
      if ((d >= 0x80 && d <= 0x8a) || d == 0xa8 || d == 0xa9 || d == 0xaf) return 3;
    }
    if (at("\xe2\x81\x9f")) return 3;
  }
  if (c == 0xe3 && at("\xe3\x80\x80")) return 3;
  return 0;
}

bool ends_with_space(const std::string& s, size_t end, size_t& len) {
  for (size_t n = 1; n <= 3 && n <= end; ++n) {
    size_t l = space_len_at(s, end - n);
    if (l == n) {
      len = n;
      return true;
    }
  }
  return false;
}

std::vector<std::string> split_whitespace(const std::string& s, int64_t maxsplit, bool from_right) {
  std::vector<std::string> words;
  std::vector<std::pair<size_t, size_t>> spans;  // word [begin, end)
  size_t i = 0;
  while (i < s.size()) {
    size_t l = space_len_at(s, i);
    if (l) {
      i += l;
      continue;
    }
    size_t b = i;
    while (i < s.size() && !space_len_at(s, i)) ++i;
    spans.emplace_back(b, i);
  }
  if (maxsplit < 0 || int64_t(spans.size()) <= maxsplit + 1) {
    for (auto [b, e] : spans) words.push_back(s.substr(b, e - b));
    return words;
  }
  if (!from_right) {
    for (int64_t k = 0; k < maxsplit; ++k)
      words.push_back(s.substr(spans[k].first, spans[k].second - spans[k].first));
    std::string rest = s.substr(spans[size_t(maxsplit)].first);
    words.push_back(strip_chars(rest, nullptr, false, true));
  } else {
    size_t first = spans.size() - size_t(maxsplit);
    words.push_back(strip_chars(s.substr(0, spans[first - 1].second), nullptr, true, false));
    for (size_t k = first; k < spans.size(); ++k)
      words.push_back(s.substr(spans[k].first, spans[k].second - spans[k].first));
  }
  return words;
}

std::vector<std::string> split_sep(const std::string& s, const std::string& sep, int64_t maxsplit,
                                   bool from_right) {
  if (sep.empty()) throw EvalError("empty separator");
  std::vector<std::string> parts;
  if (!from_right) {
    size_t start = 0;
    while (maxsplit < 0 || int64_t(parts.size()) < maxsplit) {
      size_t p = s.find(sep, start);
      if (p == std::string::npos) break;
      parts.push_back(s.substr(start, p - start));
      start = p + sep.size();
    }
    parts.push_back(s.substr(start));
    return parts;
  }
  size_t end = s.size();
  std::vector<std::string> rev;
  while (maxsplit < 0 || int64_t(rev.size()) < maxsplit) {
    if (end < sep.size()) break;
    size_t p = s.rfind(sep, end - sep.size());
    if (p == std::string::npos) break;
    rev.push_back(s.substr(p + sep.size(), end - p - sep.size()));
    end = p;
  }
  rev.push_back(s.substr(0, end));
  return {rev.rbegin(), rev.rend()};
}

Value strings_to_array(const std::vector<std::string>& v) {
  Array a;
  for (const auto& s : v) a.emplace_back(s);
  return Value(std::move(a));
}

bool matches_affix(const std::string& s, const Value& affix, bool prefix) {
  auto one = [&](const Value& v) {
    if (!v.is_string()) throw EvalError("startswith/endswith arguments must be strings");
    const std::string& a = v.str();
    if (a.size() > s.size()) return false;
    return prefix ? s.compare(0, a.size(), a) == 0
                  : s.compare(s.size() - a.size(), a.size(), a) == 0;
  };
  if (affix.is_array()) {
    for (const Value& v : affix.array())
      if (one(v)) return true;
    return false;
  }
  return one(affix);
}

// str.format with {} / {0} / {name} fields (no format specs).
std::string py_format(const std::string& f, const CallArgs& a) {
  std::string out;
  size_t auto_index = 0;
  for (size_t i = 0; i < f.size(); ++i) {
    char c = f[i];
    if (c == '{' && i + 1 < f.size() && f[i + 1] == '{') {
      out += '{';
      ++i;
    } else if (c == '}' && i + 1 < f.size() && f[i + 1] == '}') {
      out += '}';
      ++i;
    } else if (c == '{') {
      size_t end = f.find('}', i);
      if (end == std::string::npos) throw EvalError("format(): unmatched '{'");
      std::string field = f.substr(i + 1, end - i - 1);
      field = field.substr(0, field.find_first_of(":!"));
      const Value* v = nullptr;
      if (field.empty()) {
        v = auto_index < a.pos.size() ? &a.pos[auto_index++] : nullptr;
      } else if (std::all_of(field.begin(), field.end(), ::isdigit)) {
        size_t k = std::stoul(field);
        v = k < a.pos.size() ? &a.pos[k] : nullptr;
      } else {
        v = a.get(SIZE_MAX, field);
      }
      if (!v) throw EvalError("format(): missing argument for '{" + field + "}'");
      append_output(out, *v);
      i = end;
    } else {
      out += c;
    }
  }
  return out;
}

Value string_method(const Value& self, const std::string& name) {
  const std::string s = self.str();
  auto fn = [](auto f) { return Value::function(std::move(f)); };
  if (name == "strip" || name == "lstrip" || name == "rstrip") {
    bool l = name != "rstrip", r = name != "lstrip";
    return fn(
        [s, l, r](CallArgs& a) { return Value(strip_chars(s, opt_arg(a, 0, "chars"), l, r)); });
  }
  if (name == "upper") return fn([s](CallArgs&) { return Value(to_upper(s)); });
  if (name == "lower") return fn([s](CallArgs&) { return Value(to_lower(s)); });
  if (name == "title") return fn([s](CallArgs&) { return Value(title_case(s)); });
  if (name == "capitalize") return fn([s](CallArgs&) { return Value(capitalize(s)); });
  if (name == "split" || name == "rsplit") {
    bool right = name == "rsplit";
    return fn([s, right](CallArgs& a) {
      const Value* sep = opt_arg(a, 0, "sep");
      int64_t maxsplit = int_arg(a, 1, "maxsplit", -1);
      if (sep && !sep->is_string()) throw EvalError("split(): separator must be a string");
      return strings_to_array(sep ? split_sep(s, sep->str(), maxsplit, right)
                                  : split_whitespace(s, maxsplit, right));
    });
  }
  if (name == "splitlines") {
    return fn([s](CallArgs&) {
      std::vector<std::string> lines;
      size_t b = 0;
      for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\n' || s[i] == '\r') {
          lines.push_back(s.substr(b, i - b));
          if (s[i] == '\r' && i + 1 < s.size() && s[i + 1] == '\n') ++i;
          b = i + 1;
        }
      }
      if (b < s.size()) lines.push_back(s.substr(b));
      return strings_to_array(lines);
    });
  }
  if (name == "startswith" || name == "endswith") {
    bool prefix = name == "startswith";
    return fn([s, prefix](CallArgs& a) {
      return Value(matches_affix(s, arg(a, 0, "prefix", "startswith"), prefix));
    });
  }
  if (name == "replace") {
    return fn([s](CallArgs& a) {
      return Value(replace_all(s, str_arg(a, 0, "old", "replace"), str_arg(a, 1, "new", "replace"),
                               int_arg(a, 2, "count", -1)));
    });
  }
  if (name == "find" || name == "rfind" || name == "index" || name == "count") {
    return fn([s, name](CallArgs& a) {
      const std::string& sub = str_arg(a, 0, "sub", name.c_str());
      if (name == "count") {
        if (sub.empty()) return Value(int64_t(utf8_length(s) + 1));
        int64_t n = 0;
        for (size_t p = s.find(sub); p != std::string::npos; p = s.find(sub, p + sub.size())) ++n;
        return Value(n);
      }
      size_t p = name == "rfind" ? s.rfind(sub) : s.find(sub);
      if (p == std::string::npos) {
        if (name == "index") throw EvalError("substring not found");
        return Value(int64_t(-1));
      }
      return Value(int64_t(utf8_length(std::string_view(s).substr(0, p))));
    });
  }
  if (name == "join") {
    return fn([s](CallArgs& a) {
      std::string out;
      bool first = true;
      for (const Value& v : iterate(arg(a, 0, "iterable", "join"))) {
        if (!first) out += s;
        first = false;
        append_output(out, v);
      }
      return Value(std::move(out));
    });
  }
  if (name == "format") return fn([s](CallArgs& a) { return Value(py_format(s, a)); });
  if (name == "isdigit" || name == "isalpha" || name == "isalnum" || name == "isspace" ||
      name == "islower" || name == "isupper") {
    return fn([s, name](CallArgs&) {
      if (s.empty()) return Value(false);
      bool cased = false;
      for (char ch : s) {
        auto c = static_cast<unsigned char>(ch);
        bool ok = name == "isdigit"   ? isdigit(c)
                  : name == "isalpha" ? isalpha(c)
                  : name == "isalnum" ? isalnum(c)
                  : name == "isspace" ? isspace(c)
                  : name == "islower" ? !isupper(c)
                                      : !islower(c);
        if (!ok) return Value(false);
        cased |= isalpha(c) != 0;
      }
      return Value((name != "islower" && name != "isupper") || cased);
    });
  }
  if (name == "length") return Value(int64_t(utf8_length(s)));  // @huggingface/jinja extension
  return Value::undefined(name);
}

Value list_method(const Value& self, const std::string& name) {
  auto fn = [](auto f) { return Value::function(std::move(f)); };
  if (name == "append") {
    return fn([self](CallArgs& a) {
      note_mutation(self);
      self.array().push_back(arg(a, 0, "item", "append"));
      return Value::none();
    });
  }
  if (name == "extend") {
    return fn([self](CallArgs& a) {
      note_mutation(self);
      for (Value& v : iterate(arg(a, 0, "iterable", "extend")))
        self.array().push_back(std::move(v));
      return Value::none();
    });
  }
  if (name == "insert") {
    return fn([self](CallArgs& a) {
      Array& arr = self.array();
      int64_t i = int_arg(a, 0, "index", 0), n = int64_t(arr.size());
      if (i < 0) i = std::max<int64_t>(0, i + n);
      i = std::min(i, n);
      note_mutation(self);
      arr.insert(arr.begin() + i, arg(a, 1, "item", "insert"));
      return Value::none();
    });
  }
  if (name == "pop") {
    return fn([self](CallArgs& a) {
      Array& arr = self.array();
      if (arr.empty()) throw EvalError("pop from empty list");
      int64_t i = int_arg(a, 0, "index", -1), n = int64_t(arr.size());
      if (i < 0) i += n;
      if (i < 0 || i >= n) throw EvalError("pop index out of range");
      Value v = arr[size_t(i)];
      arr.erase(arr.begin() + i);
      return v;
    });
  }
  if (name == "index" || name == "count") {
    bool count = name == "count";
    return fn([self, count](CallArgs& a) {
      const Value& x = arg(a, 0, "value", count ? "count" : "index");
      int64_t n = 0;
      for (size_t i = 0; i < self.array().size(); ++i) {
        if (values_equal(self.array()[i], x)) {
          if (!count) return Value(int64_t(i));
          ++n;
        }
      }
      if (!count) throw EvalError("value is not in list");
      return Value(n);
    });
  }
  if (name == "length") return Value(int64_t(self.array().size()));
  return Value::undefined(name);
}

Value dict_method(const Value& self, const std::string& name) {
  auto fn = [](auto f) { return Value::function(std::move(f)); };
  if (name == "get") {
    return fn([self](CallArgs& a) {
      const Value& key = arg(a, 0, "key", "get");
      const Value* v = key.is_string() ? self.object().find(key.str()) : nullptr;
      if (v) return *v;
      const Value* def = a.get(1, "default");
      return def ? *def : Value::none();
    });
  }
  if (name == "items" || name == "keys" || name == "values") {
    return fn([self, name](CallArgs&) {
      Array out;
      for (const auto& [k, v] : self.object().items) {
        if (name == "items")
          out.push_back(Value(Array{Value(k), v}, true));
        else if (name == "keys")
          out.emplace_back(k);
        else
          out.push_back(v);
      }
      return Value(std::move(out));
    });
  }
  if (name == "pop") {
    return fn([self](CallArgs& a) {
      const Value& key = arg(a, 0, "key", "pop");
      if (key.is_string()) {
        if (const Value* v = self.object().find(key.str())) {
          Value out = *v;
          self.object().erase(key.str());
          return out;
        }
      }
      if (const Value* def = a.get(1, "default")) return *def;
      throw EvalError("pop(): key not found");
    });
  }
  if (name == "update") {
    return fn([self](CallArgs& a) {
      if (const Value* other = opt_arg(a, 0, "other")) {
        if (!other->is_object()) throw EvalError("update() expects a mapping");
        for (const auto& kv : other->object().items) self.object().set(kv.first, kv.second);
      }
      for (const auto& kv : a.kw) self.object().set(kv.first, kv.second);
      note_mutation(self);
      return Value::none();
    });
  }
  if (name == "copy") return fn([self](CallArgs&) { return Value(Object(self.object())); });
  return Value::undefined(name);
}

}  // namespace

Value get_attribute(const Value& obj, const std::string& name) {
  switch (obj.kind()) {
    case Value::Kind::Object: {
      if (const Value* v = obj.object().find(name)) return *v;
      return obj.is_namespace() ? Value::undefined(name) : dict_method(obj, name);
    }
    case Value::Kind::String:
      return string_method(obj, name);
    case Value::Kind::Array:
      return list_method(obj, name);
    default:
      return Value::undefined(name);
  }
}

Value get_item(const Value& obj, const Value& key) {
  if (key.is_string()) return get_attribute(obj, key.str());
  if (!key.is_int() && !key.is_bool()) return Value::undefined();
  int64_t i = key.is_int() ? key.as_int() : key.as_bool();
  if (obj.is_array()) {
    int64_t n = int64_t(obj.array().size());
    if (i < 0) i += n;
    return i >= 0 && i < n ? obj.array()[size_t(i)] : Value::undefined();
  }
  if (obj.is_string()) {
    std::vector<std::string> chars = utf8_chars(obj.str());
    int64_t n = int64_t(chars.size());
    if (i < 0) i += n;
    return i >= 0 && i < n ? Value(chars[size_t(i)]) : Value::undefined();
  }
  if (obj.is_object()) {
    const Value* v = obj.object().find(std::to_string(i));
    return v ? *v : Value::undefined();
  }
  return Value::undefined();
}

bool contains(const Value& container, const Value& item) {
  switch (container.kind()) {
    case Value::Kind::String:
      if (!item.is_string())
        throw EvalError(std::string("'in <string>' requires a string, not ") + item.type_name());
      return container.str().find(item.str()) != std::string::npos;
    case Value::Kind::Array:
      for (const Value& v : container.array())
        if (values_equal(v, item)) return true;
      return false;
    case Value::Kind::Object:
      return item.is_string() && container.object().find(item.str()) != nullptr;
    case Value::Kind::Undefined:
    case Value::Kind::None:
      return false;
    default:
      throw EvalError(std::string("argument of type ") + container.type_name() +
                      " is not iterable");
  }
}

Array iterate(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::Array:
      return v.array();
    case Value::Kind::Object: {
      Array keys;
      for (const auto& kv : v.object().items) keys.emplace_back(kv.first);
      return keys;
    }
    case Value::Kind::String: {
      Array chars;
      for (auto& c : utf8_chars(v.str())) chars.emplace_back(std::move(c));
      return chars;
    }
    case Value::Kind::Undefined:
      return {};
    default:
      throw EvalError(std::string("a ") + v.type_name() + " is not iterable");
  }
}

std::string strip_chars(const std::string& s, const Value* chars, bool left, bool right) {
  size_t b = 0, e = s.size();
  if (!chars) {
    while (left && b < e) {
      size_t l = space_len_at(s, b);
      if (!l) break;
      b += l;
    }
    size_t l = 0;
    while (right && e > b && ends_with_space(s, e, l)) e -= l;
    return s.substr(b, e - b);
  }
  if (!chars->is_string()) throw EvalError("strip(): chars must be a string");
  std::vector<std::string> set = utf8_chars(chars->str());
  auto starts = [&](size_t at) -> size_t {
    for (const auto& c : set)
      if (s.compare(at, c.size(), c) == 0 && at + c.size() <= e) return c.size();
    return 0;
  };
  auto ends = [&](size_t at) -> size_t {
    for (const auto& c : set)
      if (at >= b + c.size() && s.compare(at - c.size(), c.size(), c) == 0) return c.size();
    return 0;
  };
  while (left && b < e) {
    size_t l = starts(b);
    if (!l) break;
    b += l;
  }
  while (right && e > b) {
    size_t l = ends(e);
    if (!l) break;
    e -= l;
  }
  return s.substr(b, e - b);
}

std::string to_upper(std::string s) {
  for (char& c : s) c = char(toupper(static_cast<unsigned char>(c)));
  return s;
}

std::string to_lower(std::string s) {
  for (char& c : s) c = char(tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string title_case(const std::string& s) {
  std::string out = s;
  bool prev_cased = false;
  for (char& ch : out) {
    auto c = static_cast<unsigned char>(ch);
    bool alpha = isalpha(c) || c >= 0x80;
    if (isalpha(c)) ch = char(prev_cased ? tolower(c) : toupper(c));
    prev_cased = alpha;
  }
  return out;
}

std::string capitalize(const std::string& s) {
  std::string out = to_lower(s);
  if (!out.empty()) out[0] = char(toupper(static_cast<unsigned char>(out[0])));
  return out;
}

std::string replace_all(const std::string& s, const std::string& from, const std::string& to,
                        int64_t count) {
  std::string out;
  if (from.empty()) {  // Python inserts TO between characters (and at both ends)
    std::vector<std::string> chars = utf8_chars(s);
    int64_t n = 0;
    for (const auto& c : chars) {
      if (count < 0 || n < count) {
        out += to;
        ++n;
      }
      out += c;
    }
    if (count < 0 || n < count) out += to;
    return out;
  }
  size_t start = 0;
  int64_t n = 0;
  for (size_t p = s.find(from); p != std::string::npos && (count < 0 || n < count);
       p = s.find(from, start)) {
    out.append(s, start, p - start);
    out += to;
    start = p + from.size();
    ++n;
  }
  out.append(s, start, std::string::npos);
  return out;
}

void add_globals(Scope& g) {
  g.vars["range"] = Value::function([](CallArgs& a) {
    if (a.pos.empty() || a.pos.size() > 3) throw EvalError("range() takes 1 to 3 arguments");
    int64_t start = 0, stop, step = 1;
    if (a.pos.size() == 1) {
      stop = int_arg(a, 0, "stop", 0);
    } else {
      start = int_arg(a, 0, "start", 0);
      stop = int_arg(a, 1, "stop", 0);
      step = int_arg(a, 2, "step", 1);
    }
    if (step == 0) throw EvalError("range() step must not be zero");
    Array out;
    for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) {
      if (int64_t(out.size()) >= kMaxRange) throw EvalError("range() too large");
      out.emplace_back(i);
    }
    return Value(std::move(out));
  });
  g.vars["namespace"] = Value::function([](CallArgs& a) {
    Object o;
    if (!a.pos.empty()) {
      const Value& init = a.pos[0];
      if (init.is_object()) {
        o.items = init.object().items;
      } else if (!init.is_none() && !init.is_undefined()) {
        for (const Value& kv : iterate(init)) {
          if (!kv.is_array() || kv.array().size() != 2 || !kv.array()[0].is_string())
            throw EvalError("namespace() expects a mapping or (key, value) pairs");
          o.set(kv.array()[0].str(), kv.array()[1]);
        }
      }
    }
    for (const auto& kv : a.kw) o.set(kv.first, kv.second);
    return Value(std::move(o), /*is_namespace=*/true);
  });
  g.vars["dict"] = Value::function([](CallArgs& a) {
    Object o;
    if (!a.pos.empty() && a.pos[0].is_object()) o.items = a.pos[0].object().items;
    for (const auto& kv : a.kw) o.set(kv.first, kv.second);
    return Value(std::move(o));
  });
  g.vars["raise_exception"] = Value::function([](CallArgs& a) -> Value {
    throw RaisedError(a.pos.empty() ? std::string("error") : to_output(a.pos[0]));
  });
  g.vars["strftime_now"] = Value::function([](CallArgs& a) {
    const std::string& fmt = str_arg(a, 0, "format", "strftime_now");
    std::time_t t = std::time(nullptr);
    std::tm tm{};
    localtime_r(&t, &tm);
    char buf[256];
    size_t n = fmt.size() < 100 ? std::strftime(buf, sizeof buf, fmt.c_str(), &tm) : 0;
    return Value(std::string(buf, n));
  });
}

}  // namespace rlx::text::jinja
