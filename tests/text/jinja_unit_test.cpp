// Unit tests of the chat-template interpreter: one behaviour per test, expected strings as
// @huggingface/jinja (or Python Jinja, where docs/chat-templates.md says rlx follows it) renders.
#include <gtest/gtest.h>

#include "rlx/core/error.h"
#include "rlx/text/jinja.h"

namespace {

using nlohmann::ordered_json;
using rlx::text::ChatTemplate;

std::string render(const std::string& tpl, const ordered_json& ctx = ordered_json::object()) {
  return ChatTemplate(tpl).render(ctx);
}

std::string error_of(const std::string& tpl, const ordered_json& ctx = ordered_json::object()) {
  try {
    ChatTemplate t(tpl);
    t.render(ctx);
  } catch (const rlx::Error& e) {
    return e.what();
  }
  return "<no error>";
}

TEST(Jinja, TextAndOutput) {
  EXPECT_EQ(render("hello"), "hello");
  EXPECT_EQ(render("{{ 'a' + 'b' }}"), "ab");
  EXPECT_EQ(render("{{ x }}", {{"x", 42}}), "42");
  EXPECT_EQ(render("a{# comment #}b"), "ab");
  EXPECT_EQ(render("line\n"), "line");  // one trailing newline dropped
}

}  // namespace
