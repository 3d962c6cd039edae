// Tree-walking evaluator of a parsed template. One Interpreter renders once; it owns the variable
// scopes and the resource bounds (step budget, nesting depth, output size) that keep hostile
// templates from hanging or exhausting the stack.
#pragma once
#include <memory>
#include <string>
#include <unordered_map>

#include "text/jinja/ast.h"
#include "text/jinja/value.h"

namespace rlx::text::jinja {

struct Scope {
  std::unordered_map<std::string, Value> vars;
  std::shared_ptr<Scope> parent;
  const Value* lookup(const std::string& name) const;
};
using ScopePtr = std::shared_ptr<Scope>;

class Interpreter {
 public:
  Interpreter();
  // CONTEXT is an object; its entries become the template's global variables.
  std::string render(const Body& program, const Value& context);

  Value eval(const Expr& e, const ScopePtr& scope);
  // Calls a template-callable value (macro, builtin, bound method).
  Value call(const Value& fn, CallArgs& args);
  void tick();  // one unit of the step budget

 private:
  enum class Flow { Normal, Break, Continue };
  Flow exec(const Body& body, const ScopePtr& scope, std::string& out);
  Flow exec_stmt(const Stmt& s, const ScopePtr& scope, std::string& out);
  Flow exec_for(const Stmt& s, const ScopePtr& scope, std::string& out);
  void exec_set(const Stmt& s, const ScopePtr& scope, std::string& out);
  Value make_macro(const Stmt& s, const ScopePtr& scope, const char* display_name);
  Value eval_impl(const Expr& e, const ScopePtr& scope);
  Value eval_binary(const Expr& e, const ScopePtr& scope);
  Value eval_filter(const Expr& e, const ScopePtr& scope, const Value* operand);
  void eval_args(const std::vector<Arg>& args, const ScopePtr& scope, CallArgs& out);
  void check_output(const std::string& out) const;

  struct DepthGuard;
  ScopePtr globals_;
  int depth_ = 0;
  int macro_depth_ = 0;
  uint64_t steps_ = 0;
};

// Builtins (filters.cpp, methods.cpp).
Value apply_filter(Interpreter& in, const std::string& name, const Value& operand, CallArgs& args);
bool apply_test(Interpreter& in, const std::string& name, const Value& operand, CallArgs& args);
// `obj.name`: a mapping entry, or a bound method of strings, lists and dicts; undefined if none.
Value get_attribute(const Value& obj, const std::string& name);
// obj[key] for any key type.
Value get_item(const Value& obj, const Value& key);
void add_globals(Scope& globals);
// Python semantics of `item in container`.
bool contains(const Value& container, const Value& item);
// Items of an iterable as a for loop sees them (dict keys, string characters).
Array iterate(const Value& v);

// Python-like string helpers shared by filters and methods.
std::string strip_chars(const std::string& s, const Value* chars, bool left, bool right);
std::string to_upper(std::string s);
std::string to_lower(std::string s);
std::string title_case(const std::string& s);
std::string capitalize(const std::string& s);
std::string replace_all(const std::string& s, const std::string& from, const std::string& to,
                        int64_t count);

}  // namespace rlx::text::jinja
