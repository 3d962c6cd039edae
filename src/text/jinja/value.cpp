#include "text/jinja/value.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

namespace rlx::text::jinja {

namespace {

// Nesting bound for printing/comparing values: a list appended to itself must not recurse forever.
constexpr int kMaxValueDepth = 512;

void check_depth(int depth) {
  if (depth > kMaxValueDepth)
    throw EvalError("value nested too deeply (a list containing itself?)");
}

template <class J>
Value from_json_impl(const J& j, int depth) {
  check_depth(depth);
  switch (j.type()) {
    case nlohmann::json::value_t::null:
      return Value::none();
    case nlohmann::json::value_t::boolean:
      return Value(j.template get<bool>());
    case nlohmann::json::value_t::number_integer:
      return Value(j.template get<int64_t>());
    case nlohmann::json::value_t::number_unsigned: {
      uint64_t u = j.template get<uint64_t>();
      if (u > uint64_t(INT64_MAX)) return Value(double(u));
      return Value(int64_t(u));
    }
    case nlohmann::json::value_t::number_float:
      return Value(j.template get<double>());
    case nlohmann::json::value_t::string:
      return Value(j.template get<std::string>());
    case nlohmann::json::value_t::array: {
      Array a;
      a.reserve(j.size());
      for (const auto& x : j) a.push_back(from_json_impl(x, depth + 1));
      return Value(std::move(a));
    }
    case nlohmann::json::value_t::object: {
      Object o;
      o.items.reserve(j.size());
      for (auto it = j.begin(); it != j.end(); ++it)
        o.items.emplace_back(it.key(), from_json_impl(it.value(), depth + 1));
      return Value(std::move(o));
    }
    default:
      return Value::none();  // binary / discarded: not produced by JSON text
  }
}

// Decodes one UTF-8 sequence at s[i]; returns the code point and advances i. Invalid bytes decode
// as themselves (one byte) so that no input can make the renderer fail.
uint32_t decode_utf8(std::string_view s, size_t& i) {
  auto c = static_cast<unsigned char>(s[i]);
  int n = c < 0x80 ? 0 : (c >> 5) == 6 ? 1 : (c >> 4) == 14 ? 2 : (c >> 3) == 30 ? 3 : -1;
  if (n <= 0 || i + size_t(n) >= s.size()) {
    ++i;
    return c;
  }
  uint32_t cp = c & (0x3f >> n);
  for (int k = 1; k <= n; ++k) {
    auto cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xc0) != 0x80) {
      ++i;
      return c;
    }
    cp = (cp << 6) | (cc & 0x3f);
  }
  i += n + 1;
  return cp;
}

void append_json(std::string& out, const Value& v, const JsonOptions& opt, int depth,
                 bool undefined_as_null) {
  check_depth(depth);
  const std::string item_sep = opt.item_sep ? *opt.item_sep : opt.indent > 0 ? "," : ", ";
  auto newline = [&](int level) {
    if (opt.indent <= 0) return;
    out += '\n';
    out.append(size_t(opt.indent) * level, ' ');
  };
  switch (v.kind()) {
    case Value::Kind::Undefined:
      out += undefined_as_null ? "null" : "undefined";
      return;
    case Value::Kind::None:
      out += "null";
      return;
    case Value::Kind::Bool:
      out += v.as_bool() ? "true" : "false";
      return;
    case Value::Kind::Int:
      out += std::to_string(v.as_int());
      return;
    case Value::Kind::Float:
      out += std::isfinite(v.as_float()) ? format_float(v.as_float()) : "null";
      return;
    case Value::Kind::String:
      append_json_string(out, v.str(), opt.ensure_ascii);
      return;
    case Value::Kind::Array: {
      const Array& a = v.array();
      if (a.empty()) {
        out += "[]";
        return;
      }
      out += '[';
      for (size_t i = 0; i < a.size(); ++i) {
        if (i) out += item_sep;
        newline(depth + 1);
        append_json(out, a[i], opt, depth + 1, undefined_as_null);
      }
      newline(depth);
      out += ']';
      return;
    }
    case Value::Kind::Object: {
      const Object& o = v.object();
      if (o.items.empty()) {
        out += "{}";
        return;
      }
      std::vector<const std::pair<std::string, Value>*> items;
      for (const auto& kv : o.items) items.push_back(&kv);
      if (opt.sort_keys)
        std::stable_sort(items.begin(), items.end(),
                         [](auto* a, auto* b) { return a->first < b->first; });
      out += '{';
      for (size_t i = 0; i < items.size(); ++i) {
        if (i) out += item_sep;
        newline(depth + 1);
        append_json_string(out, items[i]->first, opt.ensure_ascii);
        out += opt.key_sep;
        append_json(out, items[i]->second, opt, depth + 1, undefined_as_null);
      }
      newline(depth);
      out += '}';
      return;
    }
    case Value::Kind::Function:
      throw EvalError("cannot convert a function to JSON");
  }
}

int sign(double d) {
  return d < 0 ? -1 : d > 0 ? 1 : 0;
}

bool equal_impl(const Value& a, const Value& b, int depth) {
  check_depth(depth);
  auto numeric = [](const Value& v) { return v.is_number() || v.is_bool(); };
  if (numeric(a) && numeric(b)) {
    if (a.is_float() || b.is_float()) return a.as_number() == b.as_number();
    auto iv = [](const Value& v) { return v.is_bool() ? int64_t(v.as_bool()) : v.as_int(); };
    return iv(a) == iv(b);
  }
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case Value::Kind::Undefined:
    case Value::Kind::None:
      return true;
    case Value::Kind::String:
      return a.str() == b.str();
    case Value::Kind::Array: {
      const Array &x = a.array(), &y = b.array();
      if (x.size() != y.size()) return false;
      for (size_t i = 0; i < x.size(); ++i)
        if (!equal_impl(x[i], y[i], depth + 1)) return false;
      return true;
    }
    case Value::Kind::Object: {
      const Object &x = a.object(), &y = b.object();
      if (x.items.size() != y.items.size()) return false;
      for (const auto& [k, v] : x.items) {
        const Value* w = y.find(k);
        if (!w || !equal_impl(v, *w, depth + 1)) return false;
      }
      return true;
    }
    case Value::Kind::Function:
      return &a.fn() == &b.fn();
    default:
      return false;
  }
}

int compare_impl(const Value& a, const Value& b, int depth) {
  check_depth(depth);
  auto numeric = [](const Value& v) { return v.is_number() || v.is_bool(); };
  if (numeric(a) && numeric(b)) {
    if (a.is_int() && b.is_int()) return a.as_int() < b.as_int() ? -1 : a.as_int() > b.as_int();
    return sign(a.as_number() - b.as_number());
  }
  if (a.is_string() && b.is_string()) return a.str() < b.str() ? -1 : a.str() > b.str();
  if (a.is_array() && b.is_array()) {
    const Array &x = a.array(), &y = b.array();
    for (size_t i = 0; i < x.size() && i < y.size(); ++i)
      if (int c = compare_impl(x[i], y[i], depth + 1)) return c;
    return x.size() < y.size() ? -1 : x.size() > y.size();
  }
  throw EvalError(std::string("cannot compare ") + a.type_name() + " with " + b.type_name());
}

}  // namespace

const Value* Object::find(std::string_view key) const {
  for (const auto& kv : items)
    if (kv.first == key) return &kv.second;
  return nullptr;
}

Value* Object::find(std::string_view key) {
  for (auto& kv : items)
    if (kv.first == key) return &kv.second;
  return nullptr;
}

void Object::set(const std::string& key, Value v) {
  if (Value* p = find(key)) {
    *p = std::move(v);
  } else {
    items.emplace_back(key, std::move(v));
  }
}

bool Object::erase(std::string_view key) {
  for (auto it = items.begin(); it != items.end(); ++it) {
    if (it->first == key) {
      items.erase(it);
      return true;
    }
  }
  return false;
}

const Value* CallArgs::get(size_t index, std::string_view name) const {
  if (index < pos.size()) return &pos[index];
  for (const auto& kv : kw)
    if (kv.first == name) return &kv.second;
  return nullptr;
}

Value Value::undefined(std::string name) {
  Value v;
  v.s_ = std::move(name);
  return v;
}

Value::Value(Array a, bool tuple)
    : kind_(Kind::Array), flag_(tuple), arr_(std::make_shared<Array>(std::move(a))) {}

Value::Value(Object o, bool is_namespace)
    : kind_(Kind::Object), flag_(is_namespace), obj_(std::make_shared<Object>(std::move(o))) {}

Value Value::function(Function fn) {
  Value v(Kind::Function);
  v.fn_ = std::make_shared<Function>(std::move(fn));
  return v;
}

bool Value::truthy() const {
  switch (kind_) {
    case Kind::Undefined:
    case Kind::None:
      return false;
    case Kind::Bool:
      return b_;
    case Kind::Int:
      return i_ != 0;
    case Kind::Float:
      return f_ != 0;
    case Kind::String:
      return !s_.empty();
    case Kind::Array:
      return !arr_->empty();
    case Kind::Object:
      return !obj_->items.empty();
    case Kind::Function:
      return true;
  }
  return false;
}

const char* Value::type_name() const {
  switch (kind_) {
    case Kind::Undefined:
      return "undefined";
    case Kind::None:
      return "none";
    case Kind::Bool:
      return "boolean";
    case Kind::Int:
      return "integer";
    case Kind::Float:
      return "float";
    case Kind::String:
      return "string";
    case Kind::Array:
      return flag_ ? "tuple" : "list";
    case Kind::Object:
      return flag_ ? "namespace" : "object";
    case Kind::Function:
      return "function";
  }
  return "?";
}

namespace {
thread_local MutationLog* current_log = nullptr;
}  // namespace

MutationLog::MutationLog() : outer_(current_log) {
  current_log = this;
}

MutationLog::~MutationLog() {
  current_log = outer_;
  // Move the contents out first: destroying them may drop the last reference to other
  // containers, never to these (we hold them).
  for (auto& a : arrays_) Array().swap(*a);
  for (auto& o : objects_) std::vector<std::pair<std::string, Value>>().swap(o->items);
}

void note_mutation(const Value& container) {
  MutationLog* log = current_log;
  if (!log) return;
  if (container.is_array()) log->arrays_.push_back(container.array_ptr());
  if (container.is_object()) log->objects_.push_back(container.object_ptr());
}

Value from_json(const nlohmann::ordered_json& j) {
  return from_json_impl(j, 0);
}
Value from_json(const nlohmann::json& j) {
  return from_json_impl(j, 0);
}

std::string format_float(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v < 0 ? "-Infinity" : "Infinity";
  if (v == 0) return std::signbit(v) ? "-0.0" : "0.0";
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  std::string sci(buf, res.ptr);  // shortest round-trip digits: "d.ddde+XX"
  size_t epos = sci.find('e');
  int exp10 = std::stoi(sci.substr(epos + 1));
  std::string digits;
  bool neg = sci[0] == '-';
  for (size_t i = neg ? 1 : 0; i < epos; ++i)
    if (sci[i] != '.') digits += sci[i];
  std::string out = neg ? "-" : "";
  int n = exp10 + 1;  // digits before the decimal point
  const int len = int(digits.size());
  if (n > -6 && n <= 21) {  // fixed notation, as JavaScript's Number.prototype.toString
    if (n <= 0) {
      out += "0." + std::string(size_t(-n), '0') + digits;
    } else if (n >= len) {
      out += digits + std::string(size_t(n - len), '0') + ".0";  // integral: "2.0"
    } else {
      out += digits.substr(0, size_t(n)) + "." + digits.substr(size_t(n));
    }
  } else {
    out += digits.substr(0, 1);
    if (len > 1) out += "." + digits.substr(1);
    out += exp10 > 0 ? "e+" : "e-";
    out += std::to_string(std::abs(exp10));
  }
  return out;
}

void append_json_string(std::string& out, std::string_view s, bool ensure_ascii) {
  out += '"';
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80 || (ensure_ascii && c == 0x7f)) {
      size_t start = i;
      uint32_t cp = decode_utf8(s, i);
      if (!ensure_ascii) {
        out.append(s.substr(start, i - start));
        continue;
      }
      char buf[16];
      if (cp >= 0x10000) {
        cp -= 0x10000;
        std::snprintf(buf, sizeof buf, "\\u%04x\\u%04x", 0xd800 + (cp >> 10),
                      0xdc00 + (cp & 0x3ff));
      } else {
        std::snprintf(buf, sizeof buf, "\\u%04x", cp);
      }
      out += buf;
      continue;
    }
    ++i;
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += char(c);
        }
    }
  }
  out += '"';
}

std::string to_json(const Value& v, const JsonOptions& opt) {
  std::string out;
  append_json(out, v, opt, 0, true);
  return out;
}

void append_output(std::string& out, const Value& v) {
  switch (v.kind()) {
    case Value::Kind::Undefined:
    case Value::Kind::None:
      return;
    case Value::Kind::Bool:
      out += v.as_bool() ? "true" : "false";
      return;
    case Value::Kind::Int:
      out += std::to_string(v.as_int());
      return;
    case Value::Kind::Float:
      out += format_float(v.as_float());
      return;
    case Value::Kind::String:
      out += v.str();
      return;
    case Value::Kind::Array:
    case Value::Kind::Object:
      append_json(out, v, JsonOptions{}, 0, false);
      return;
    case Value::Kind::Function:
      out += "<function>";
      return;
  }
}

std::string to_output(const Value& v) {
  std::string out;
  append_output(out, v);
  return out;
}

bool values_equal(const Value& a, const Value& b) {
  return equal_impl(a, b, 0);
}
int compare_values(const Value& a, const Value& b) {
  return compare_impl(a, b, 0);
}

std::vector<std::string> utf8_chars(std::string_view s) {
  std::vector<std::string> out;
  for (size_t i = 0; i < s.size();) {
    size_t start = i;
    decode_utf8(s, i);
    out.emplace_back(s.substr(start, i - start));
  }
  return out;
}

size_t utf8_length(std::string_view s) {
  size_t n = 0;
  for (size_t i = 0; i < s.size(); ++n) decode_utf8(s, i);
  return n;
}

}  // namespace rlx::text::jinja
