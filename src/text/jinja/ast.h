// Syntax tree of a parsed chat template. One node struct per category keeps the parser and the
// interpreter small; fields unused by a kind stay empty.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "text/jinja/lexer.h"
#include "text/jinja/value.h"

namespace rlx::text::jinja {

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

enum class ExprKind : uint8_t {
  Literal,  // literal
  Name,     // name
  List,     // items
  Tuple,    // items
  Dict,     // items: key0, value0, key1, value1, ...
  Attr,     // items[0].name
  Index,    // items[0][items[1]]
  Slice,    // items[0][items[1]:items[2]:items[3]] (null items = omitted)
  Call,     // items[0](args)
  Filter,   // items[0] | name(args); items[0] is null for a {% filter %} block
  Test,     // items[0] is [not] name(args)
  Unary,    // op items[0]: "-", "+", "not"
  Binary,   // items[0] op items[1]
  Ternary,  // items[1] if items[0] else items[2] (items[2] null: undefined)
};

enum class BinOp : uint8_t {
  Add,
  Sub,
  Mul,
  Div,
  FloorDiv,
  Mod,
  Pow,
  Concat,
  Eq,
  Ne,
  Lt,
  Le,
  Gt,
  Ge,
  In,
  NotIn,
  And,
  Or,
};

struct Arg {
  std::string name;  // empty: positional
  ExprPtr value;
};

struct Expr {
  ExprKind kind;
  Pos pos;
  Value literal;
  std::string name;  // Name, Attr, Filter and Test names; unary operator
  BinOp op = BinOp::Add;
  bool negate = false;  // Test: `is not`
  std::vector<ExprPtr> items;
  std::vector<Arg> args;
};

struct Stmt;
using StmtPtr = std::unique_ptr<Stmt>;
using Body = std::vector<StmtPtr>;

enum class StmtKind : uint8_t {
  Text,         // text
  Output,       // {{ expr }}
  If,           // branches; else_body
  For,          // for targets in expr [if cond]: body [else else_body]
  Set,          // set targets = expr | set targets ... endset (expr null, body)
  Macro,        // macro name(params): body
  CallBlock,    // call(params) expr: body  (caller() renders body)
  FilterBlock,  // filter expr (a Filter with a null operand): body
  Break,
  Continue,
  Do,  // {% do expr %}: evaluate for side effects
};

struct Param {
  std::string name;
  ExprPtr default_value;  // may be null
};

struct Branch {
  ExprPtr cond;
  Body body;
};

struct Stmt {
  StmtKind kind;
  Pos pos;
  std::string text;                  // Text; Macro name
  ExprPtr expr;                      // Output, For iterable, Set value, CallBlock call, Filter, Do
  std::vector<std::string> targets;  // For/Set names
  std::string attr;                  // Set: `set targets[0].attr = ...` (namespace attribute)
  ExprPtr cond;                      // For: `if` filter
  std::vector<Branch> branches;      // If
  Body body;
  Body else_body;
  std::vector<Param> params;  // Macro, CallBlock
};

// Parses a template; syntax errors throw rlx::Error with line:column.
Body parse_template(const std::vector<Token>& tokens);

}  // namespace rlx::text::jinja
