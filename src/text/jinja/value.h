// Runtime values of the chat-template interpreter. Arrays, objects and functions are shared by
// reference (as in Python): `ns.x = ...` and `list.append(...)` mutate the one shared instance.
#pragma once
#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rlx::text::jinja {

// An error without a position; the interpreter adds the line:column of the node being evaluated.
class EvalError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// raise_exception(...) from the template itself.
class RaisedError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Value;
using Array = std::vector<Value>;

// Insertion-ordered mapping (tojson of tool schemas must keep the caller's key order). Chat
// template objects are small, so a linear search is fine.
struct Object {
  std::vector<std::pair<std::string, Value>> items;
  const Value* find(std::string_view key) const;
  Value* find(std::string_view key);
  void set(const std::string& key, Value v);
  bool erase(std::string_view key);
};

struct CallArgs {
  std::vector<Value> pos;
  std::vector<std::pair<std::string, Value>> kw;
  // Argument INDEX by position or NAME by keyword; nullptr when absent.
  const Value* get(size_t index, std::string_view name) const;
};

using Function = std::function<Value(CallArgs&)>;

class Value {
 public:
  enum class Kind : uint8_t { Undefined, None, Bool, Int, Float, String, Array, Object, Function };

  Value() = default;  // undefined
  static Value none() { return Value(Kind::None); }
  static Value undefined(std::string name = {});
  Value(bool b) : kind_(Kind::Bool), b_(b) {}
  Value(int v) : kind_(Kind::Int), i_(v) {}
  Value(int64_t v) : kind_(Kind::Int), i_(v) {}
  Value(double v) : kind_(Kind::Float), f_(v) {}
  Value(std::string s) : kind_(Kind::String), s_(std::move(s)) {}
  Value(const char* s) : kind_(Kind::String), s_(s) {}
  Value(Array a, bool tuple = false);
  Value(Object o, bool is_namespace = false);
  static Value function(Function fn);

  Kind kind() const { return kind_; }
  bool is_undefined() const { return kind_ == Kind::Undefined; }
  bool is_none() const { return kind_ == Kind::None; }
  bool is_bool() const { return kind_ == Kind::Bool; }
  bool is_int() const { return kind_ == Kind::Int; }
  bool is_float() const { return kind_ == Kind::Float; }
  bool is_number() const { return kind_ == Kind::Int || kind_ == Kind::Float; }
  bool is_string() const { return kind_ == Kind::String; }
  bool is_array() const { return kind_ == Kind::Array; }
  bool is_object() const { return kind_ == Kind::Object; }
  bool is_function() const { return kind_ == Kind::Function; }
  bool is_tuple() const { return is_array() && flag_; }
  bool is_namespace() const { return is_object() && flag_; }

  bool as_bool() const { return b_; }
  int64_t as_int() const { return i_; }
  double as_float() const { return f_; }
  double as_number() const {
    return kind_ == Kind::Int ? double(i_) : kind_ == Kind::Bool ? b_ : f_;
  }
  const std::string& str() const { return s_; }  // also the name of an undefined variable
  Array& array() const { return *arr_; }
  Object& object() const { return *obj_; }
  const Function& fn() const { return *fn_; }
  std::shared_ptr<Array> array_ptr() const { return arr_; }
  std::shared_ptr<Object> object_ptr() const { return obj_; }

  bool truthy() const;
  const char* type_name() const;

 private:
  explicit Value(Kind k) : kind_(k) {}
  Kind kind_ = Kind::Undefined;
  bool flag_ = false;  // tuple (arrays) or namespace (objects)
  bool b_ = false;
  int64_t i_ = 0;
  double f_ = 0;
  std::string s_;
  std::shared_ptr<Array> arr_;
  std::shared_ptr<Object> obj_;
  std::shared_ptr<Function> fn_;
};

// Containers mutated in place during a render (list.append, `set ns.x = ...`, dict.update) are
// the only way to build reference cycles (a list appended to itself), which shared_ptr would
// leak. The renderer holds a MutationLog; at its end the noted containers are emptied.
void note_mutation(const Value& container);
class MutationLog {
 public:
  MutationLog();
  ~MutationLog();
  MutationLog(const MutationLog&) = delete;
  MutationLog& operator=(const MutationLog&) = delete;

 private:
  std::vector<std::shared_ptr<Array>> arrays_;
  std::vector<std::shared_ptr<Object>> objects_;
  MutationLog* outer_;
  friend void note_mutation(const Value& container);
};

// Conversions (value.cpp).
Value from_json(const nlohmann::ordered_json& j);
Value from_json(const nlohmann::json& j);

// Text of a value as `{{ v }}` prints it: undefined and none print nothing, booleans print
// true/false, floats like JavaScript (2.0, 0.1), arrays and objects as JSON (as
// @huggingface/jinja does).
std::string to_output(const Value& v);
void append_output(std::string& out, const Value& v);

struct JsonOptions {
  int indent = -1;  // < 0: single line
  bool ensure_ascii = false;
  bool sort_keys = false;
  std::optional<std::string> item_sep;  // default ", " (or "," with indent)
  std::string key_sep = ": ";
};
// `tojson` (Python json.dumps style separators, non-ASCII kept unless ensure_ascii).
std::string to_json(const Value& v, const JsonOptions& opt = {});
void append_json_string(std::string& out, std::string_view s, bool ensure_ascii);
std::string format_float(double v);  // as printed: 2.0, 0.1, 1e+21

// Python-like equality (1 == 1.0 == true) and ordering (numbers, strings, sequences).
bool values_equal(const Value& a, const Value& b);
int compare_values(const Value& a, const Value& b);  // throws EvalError for incomparable types

// UTF-8 helpers: split into code points (strings index and slice by code point).
std::vector<std::string> utf8_chars(std::string_view s);
size_t utf8_length(std::string_view s);

}  // namespace rlx::text::jinja
