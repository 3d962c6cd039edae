// Unit tests of the chat-template interpreter: one feature per test. Expected strings are what
// @huggingface/jinja renders, except where docs/chat-templates.md says rlx follows Python Jinja.
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

TEST(Jinja, TextOutputAndComments) {
  EXPECT_EQ(render("hello"), "hello");
  EXPECT_EQ(render("{{ 'a' + 'b' }}"), "ab");
  EXPECT_EQ(render("{{ x }}", {{"x", 42}}), "42");
  EXPECT_EQ(render("a{# comment #}b"), "ab");
  EXPECT_EQ(render("line\n"), "line");  // one trailing newline dropped
  EXPECT_EQ(render("{{ \"it's\" ~ '\\n' ~ 'x\\ty' }}"), "it's\nx\ty");
  EXPECT_EQ(render("{{ 'a' 'b' }}"), "ab");  // adjacent literals concatenate
}

TEST(Jinja, WhitespaceControl) {
  EXPECT_EQ(render("a  {{- 'b' -}}  \n c"), "abc");
  EXPECT_EQ(render("a\n{%- if true %}b{% endif -%}\n c"), "abc");
  // trim_blocks: the newline after a block tag goes; lstrip_blocks: indentation before it goes.
  EXPECT_EQ(render("{% if true %}\n  x\n  {% endif %}\ny"), "  x\ny");
  EXPECT_EQ(render("a {% if true %}b{% endif %}"), "a b");  // not at line start: kept
  EXPECT_EQ(render("{{ 'x' }}\ny"), "x\ny");                // expressions do not trim
  EXPECT_EQ(render("a{# c #}\nb"), "ab");
  EXPECT_EQ(render("  {%+ if true %}x{% endif %}"), "  x");  // '+' disables lstrip_blocks
  EXPECT_EQ(render("{% raw %}{{ not code }}{% endraw %}"), "{{ not code }}");
}

TEST(Jinja, IfElifElse) {
  const std::string t = "{% if x > 2 %}big{% elif x == 2 %}two{% else %}small{% endif %}";
  EXPECT_EQ(render(t, {{"x", 3}}), "big");
  EXPECT_EQ(render(t, {{"x", 2}}), "two");
  EXPECT_EQ(render(t, {{"x", 1}}), "small");
  EXPECT_EQ(render("{% if not missing %}no{% endif %}"), "no");
}

TEST(Jinja, ForLoop) {
  ordered_json ctx = {{"xs", {"a", "b", "c"}}};
  EXPECT_EQ(
      render(
          "{% for x in xs %}{{ loop.index }}{{ x }}{% if not loop.last %},{% endif %}{% endfor %}",
          ctx),
      "1a,2b,3c");
  EXPECT_EQ(render("{% for x in xs %}{{ loop.index0 }}{{ loop.first }}{{ loop.length }}{{ "
                   "loop.revindex }};{% endfor %}",
                   ctx),
            "0true33;1false32;2false31;");
  EXPECT_EQ(
      render("{% for x in xs %}{{ loop.previtem }}>{{ x }}>{{ loop.nextitem }} {% endfor %}", ctx),
      ">a>b a>b>c b>c> ");
  EXPECT_EQ(render("{% for x in [] %}x{% else %}empty{% endfor %}"), "empty");
  EXPECT_EQ(render("{% for x in xs if x != 'b' %}{{ loop.index }}{{ x }}{% endfor %}", ctx),
            "1a2c");
  EXPECT_EQ(render("{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}",
                   {{"d", {{"z", 1}, {"a", 2}}}}),
            "z=1;a=2;");
  EXPECT_EQ(render("{% for k in d %}{{ k }}{% endfor %}", {{"d", {{"p", 1}, {"q", 2}}}}), "pq");
  EXPECT_EQ(
      render("{% for x in xs %}{% if x == 'b' %}{% continue %}{% endif %}{{ x }}{% endfor %}", ctx),
      "ac");
  EXPECT_EQ(
      render("{% for x in xs %}{% if x == 'b' %}{% break %}{% endif %}{{ x }}{% endfor %}", ctx),
      "a");
  EXPECT_EQ(render("{% for a, b in [[1, 2], [3, 4]] %}{{ a + b }}{% endfor %}"), "37");
  EXPECT_EQ(render("{% for x in xs %}{{ loop.cycle('o', 'e') }}{% endfor %}", ctx), "oeo");
}

TEST(Jinja, SetAndNamespace) {
  EXPECT_EQ(render("{% set x = 1 %}{% set y = x + 1 %}{{ y }}"), "2");
  EXPECT_EQ(render("{% set a, b = [1, 2] %}{{ b }}{{ a }}"), "21");
  EXPECT_EQ(render("{% set s %}in {{ 'block' }}{% endset %}[{{ s }}]"), "[in block]");
  // A plain set inside a loop does not leak out; a namespace attribute does.
  EXPECT_EQ(render("{% set n = 0 %}{% set ns = namespace(n=0) %}{% for i in range(3) %}"
                   "{% set n = n + 1 %}{% set ns.n = ns.n + i %}{% endfor %}{{ n }},{{ ns.n }}"),
            "0,3");
  EXPECT_EQ(render("{% set ns = namespace(found=false) %}{% set ns.found = true %}{{ ns.found }}"),
            "true");
}

TEST(Jinja, Macros) {
  EXPECT_EQ(render("{% macro greet(name, punct='!') %}Hi {{ name }}{{ punct }}{% endmacro %}"
                   "{{ greet('Ann') }} {{ greet('Bo', punct='?') }} {{ greet(name='Cy') }}"),
            "Hi Ann! Hi Bo? Hi Cy!");
  EXPECT_EQ(
      render("{% macro wrap() %}[{{ caller() }}]{% endmacro %}{% call wrap() %}body{% endcall %}"),
      "[body]");
  EXPECT_EQ(
      render(
          "{% macro f(n) %}{% if n > 0 %}{{ n }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(3) }}"),
      "321");
}

TEST(Jinja, Expressions) {
  EXPECT_EQ(render("{{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 2 ** 10 }} {{ 7 / 2 }}"),
            "3 -4 1 2 1024 3.5");
  EXPECT_EQ(render("{{ 1 + 2 * 3 }} {{ (1 + 2) * 3 }} {{ 10 - 2 - 3 }}"), "7 9 5");
  EXPECT_EQ(render("{{ 4 / 2 }} {{ 1.5 + 1 }} {{ 0.1 + 0.2 }}"), "2.0 2.5 0.30000000000000004");
  EXPECT_EQ(render("{{ 'ab' ~ 1 ~ none ~ true }}"), "ab1true");
  EXPECT_EQ(render("{{ 'x' if c else 'y' }}{{ 'z' if not c }}", {{"c", false}}), "yz");
  EXPECT_EQ(render("{{ 1 < 2 and 2 <= 2 and 3 > 2 and 3 >= 4 }}"), "false");
  EXPECT_EQ(render("{{ x or 'default' }} {{ 0 and 1 }}"), "default 0");
  EXPECT_EQ(render("{{ 'a' in 'cat' }} {{ 2 in [1, 2] }} {{ 'k' in {'k': 1} }} {{ 3 not in [1] }}"),
            "true true true true");
  EXPECT_EQ(render("{{ [1, 2] + [3] }} {{ {'a': [1, 'x']} }} {{ (1, 2) }}"),
            "[1, 2, 3] {\"a\": [1, \"x\"]} [1, 2]");
  EXPECT_EQ(render("{{ 'ab' * 3 }}"), "ababab");
  EXPECT_EQ(render("{{ 1 == 1.0 }} {{ 'a' == 'a' }} {{ [1] == [1] }} {{ none == none }}"),
            "true true true true");
}

TEST(Jinja, SubscriptsAndSlices) {
  ordered_json ctx = {{"xs", {1, 2, 3, 4}}, {"s", "héllo"}, {"m", {{"role", "user"}}}};
  EXPECT_EQ(
      render("{{ xs[0] }}{{ xs[-1] }}{{ xs[1:3] }}{{ xs[::-1] }}{{ xs[:2] }}{{ xs[::2] }}", ctx),
      "14[2, 3][4, 3, 2, 1][1, 2][1, 3]");
  EXPECT_EQ(render("{{ s[1] }}{{ s[1:] }}{{ s[::-1] }}", ctx), "éélloolléh");
  EXPECT_EQ(render("{{ m.role }}{{ m['role'] }}{{ m.missing }}{{ xs[10] }}", ctx), "useruser");
  EXPECT_EQ(render("{{ m.missing.deeper }}|{{ undefined_var.x }}", ctx), "|");
}

TEST(Jinja, Tests) {
  ordered_json ctx = {{"s", "x"}, {"n", 3},          {"f", 1.5},
                      {"l", {1}}, {"d", {{"a", 1}}}, {"z", nullptr}};
  EXPECT_EQ(
      render(
          "{{ s is string }}{{ n is number }}{{ f is number }}{{ l is sequence }}{{ d is mapping }}"
          "{{ z is none }}{{ q is defined }}{{ q is undefined }}{{ l is iterable }}{{ s is not "
          "string }}",
          ctx),
      "truetruetruetruetruetruefalsetruetruefalse");
  EXPECT_EQ(render("{{ n is odd }}{{ n is even }}{{ 9 is divisibleby 3 }}{{ 9 is divisibleby(2) }}"
                   "{{ true is true }}{{ 1 is true }}{{ false is false }}{{ true is boolean }}{{ n "
                   "is equalto 3 }}",
                   ctx),
            "truefalsetruefalsetruefalsetruetruetrue");
  EXPECT_EQ(render("{{ not z is none }}", ctx), "false");
}

TEST(Jinja, StringMethods) {
  EXPECT_EQ(render("{{ '  a b  '.strip() }}|{{ 'xxaxx'.strip('x') }}|{{ '\\n\\na\\n'.lstrip('\\n') "
                   "}}|{{ 'a\\n \\n'.rstrip('\\n') }}"),
            "a b|a|a\n|a\n ");
  EXPECT_EQ(render("{{ 'a,b,,c'.split(',') }}{{ ' a  b '.split() }}{{ 'a-b-c'.split('-', 1) }}"),
            "[\"a\", \"b\", \"\", \"c\"][\"a\", \"b\"][\"a\", \"b-c\"]");
  EXPECT_EQ(render("{{ 'abc'.startswith('ab') }}{{ 'abc'.endswith(('x', 'c')) }}{{ 'Hi'.upper() "
                   "}}{{ 'Hi'.lower() }}"),
            "truetrueHIhi");
  EXPECT_EQ(render("{{ 'aXbX'.replace('X', '-') }} {{ 'aXbX'.replace('X', '-', 1) }} {{ 'hello "
                   "world'.title() }}"),
            "a-b- a-bX Hello World");
  EXPECT_EQ(render("{{ 'abcabc'.find('c') }} {{ 'abc'.find('z') }} {{ 'x{}y{}'.format(1, 'z') }}"),
            "2 -1 x1yz");
  EXPECT_EQ(render("{{ '</think>x'.split('</think>')[-1] }}"), "x");
}

TEST(Jinja, DictAndListMethods) {
  ordered_json ctx = {{"d", {{"a", 1}, {"b", 2}}}};
  EXPECT_EQ(render("{{ d.get('a') }}{{ d.get('z', 9) }}{{ d.get('z') }}{{ d.keys() }}{{ d.values() "
                   "}}{{ d.items() }}",
                   ctx),
            "19[\"a\", \"b\"][1, 2][[\"a\", 1], [\"b\", 2]]");
  EXPECT_EQ(render("{% set l = [1] %}{% do l.append(2) %}{% set _ = l.append(3) %}{{ l }}{{ "
                   "l.pop() }}{{ l }}"),
            "[1, 2, 3]3[1, 2]");
}

TEST(Jinja, Filters) {
  ordered_json ctx = {
      {"xs", {3, 1, 2}},
      {"users", {{{"name", "b"}, {"admin", true}}, {{"name", "a"}, {"admin", false}}}},
      {"words", {"b", "A", "c", "a"}}};
  EXPECT_EQ(render("{{ '  x  ' | trim }}|{{ 'ab' | upper }}|{{ 'AB' | lower }}|{{ 'hi there' | "
                   "title }}|{{ 'hI' | capitalize }}",
                   ctx),
            "x|AB|ab|Hi There|Hi");
  EXPECT_EQ(render("{{ xs | length }}{{ 'héllo' | length }}{{ xs | first }}{{ xs | last }}{{ xs | "
                   "sort }}{{ xs | reverse | list }}",
                   ctx),
            "3532[1, 2, 3][2, 1, 3]");
  EXPECT_EQ(
      render("{{ xs | join(', ') }}|{{ xs | sort(reverse=true) | join }}|{{ words | sort | join }}",
             ctx),
      "3, 1, 2|321|Aabc");
  EXPECT_EQ(render("{{ users | selectattr('admin') | map(attribute='name') | list }}"
                   "{{ users | rejectattr('admin') | map(attribute='name') | join }}"
                   "{{ users | selectattr('name', 'equalto', 'a') | list | length }}",
                   ctx),
            "[\"b\"]a1");
  EXPECT_EQ(render("{{ users | sort(attribute='name') | map(attribute='name') | join }}", ctx),
            "ab");
  EXPECT_EQ(
      render("{{ missing | default('d') }}{{ '' | default('e', true) }}{{ none | default('f') }}"),
      "de");
  EXPECT_EQ(render("{{ '3' | int + 1 }} {{ '2.5' | float }} {{ 3.7 | int }} {{ -2 | abs }} {{ "
                   "2.567 | round(2) }} {{ 2.5 | round }}"),
            "4 2.5 3 2 2.57 3.0");
  EXPECT_EQ(render("{{ [1, 2, 1, 3] | unique | list }} {{ {'b': 1, 'a': 2} | items | list }} {{ 42 "
                   "| string }}"),
            "[1, 2, 3] [[\"b\", 1], [\"a\", 2]] 42");
  EXPECT_EQ(render("{{ 'a\\nb\\n\\nc' | indent(2) }}|{{ 'a\\nb' | indent(2, first=true) }}"),
            "a\n  b\n\n  c|  a\n  b");
  EXPECT_EQ(render("{{ 'a<b & \"c\"' | e }}{{ 'x' | safe }}{{ 'one two  three' | wordcount }}"),
            "a&lt;b &amp; &#34;c&#34;x3");
  EXPECT_EQ(render("{{ 'hello' | replace('l', 'L') }} {{ [1, 2, 3] | sum }} {{ [4, 2, 8] | max }} "
                   "{{ [4, 2, 8] | min }}"),
            "heLLo 6 8 2");
  EXPECT_EQ(render("{% filter upper %}shout {{ 'it' }}{% endfilter %}"), "SHOUT IT");
}

TEST(Jinja, ToJson) {
  ordered_json ctx = {{"t",
                       {{"name", "f"},
                        {"args", {1, 2.5, true, nullptr, "é\"\n"}},
                        {"empty", ordered_json::object()}}}};
  EXPECT_EQ(render("{{ t | tojson }}", ctx),
            "{\"name\": \"f\", \"args\": [1, 2.5, true, null, \"é\\\"\\n\"], \"empty\": {}}");
  EXPECT_EQ(render("{{ t.args[:2] | tojson(indent=2) }}", ctx), "[\n  1,\n  2.5\n]");
  EXPECT_EQ(render("{{ {'b': 1, 'a': [1, {'c': 2}]} | tojson(indent=2) }}"),
            "{\n  \"b\": 1,\n  \"a\": [\n    1,\n    {\n      \"c\": 2\n    }\n  ]\n}");
  EXPECT_EQ(
      render(
          "{{ 'é' | tojson(ensure_ascii=true) }} {{ {'b': 1, 'a': 2} | tojson(sort_keys=true) }}"),
      "\"\\u00e9\" {\"a\": 2, \"b\": 1}");
  EXPECT_EQ(render("{{ {'a': 1, 'b': [2]} | tojson(separators=(',', ':')) }}"),
            "{\"a\":1,\"b\":[2]}");
}

TEST(Jinja, Globals) {
  EXPECT_EQ(render("{{ range(3) | list }}{{ range(1, 7, 2) | list }}{{ range(3, 0, -1) | list }}"),
            "[0, 1, 2][1, 3, 5][3, 2, 1]");
  EXPECT_EQ(render("{{ strftime_now('%Y') | length }}"), "4");
  EXPECT_EQ(render("{{ dict(a=1) }}"), "{\"a\": 1}");
  EXPECT_EQ(render("{{ True }}{{ False }}{{ None }}|{{ none }}"), "truefalse|");
}

TEST(Jinja, UndefinedBehavesLikeJinja) {
  EXPECT_EQ(
      render("[{{ nothing }}]{% if nothing %}x{% endif %}{% for i in nothing %}y{% endfor %}"),
      "[]");
  EXPECT_EQ(render("{{ nothing | length }}{{ nothing is defined }}{{ 'a' in nothing }}"),
            "0falsefalse");
}

TEST(Jinja, RenderChatHelper) {
  ChatTemplate t(
      "{% for m in messages %}<{{ m.role }}>{{ m.content }}{% endfor %}{% if add_generation_prompt "
      "%}<a>{% endif %}{{ bos }}");
  ordered_json msgs = ordered_json::array({{{"role", "user"}, {"content", "hi"}}});
  EXPECT_EQ(rlx::text::render_chat(t, msgs, true, {{"bos", "B"}}), "<user>hi<a>B");
  EXPECT_EQ(rlx::text::render_chat(t, msgs, false), "<user>hi");
  nlohmann::json unordered = {{"messages", msgs}};
  EXPECT_EQ(t.render(unordered), "<user>hi");
}

// ---- errors name line:column ----

TEST(JinjaErrors, SyntaxErrorsHaveLineAndColumn) {
  EXPECT_EQ(error_of("ok\n{% if x %}\nno end"),
            "chat template 2:4: syntax error: unclosed block: missing '{% endif %}' before the end "
            "of the template");
  EXPECT_EQ(error_of("{{ 1 + }}"),
            "chat template 1:8: syntax error: expected an expression, got '}}'");
  EXPECT_EQ(error_of("a\n  {{ x"), "chat template 2:3: syntax error: unterminated '{{' tag");
  EXPECT_EQ(error_of("{% for x of y %}{% endfor %}"),
            "chat template 1:10: syntax error: expected 'in', got 'of'");
  EXPECT_EQ(error_of("{% frobnicate %}"),
            "chat template 1:4: syntax error: unknown or misplaced statement 'frobnicate'");
  EXPECT_EQ(error_of("{% endif %}"),
            "chat template 1:4: syntax error: unknown or misplaced statement 'endif'");
  EXPECT_EQ(error_of("{{ 'abc }}"), "chat template 1:4: syntax error: unterminated string literal");
  EXPECT_EQ(error_of("{# open"), "chat template 1:1: syntax error: unterminated comment");
  EXPECT_EQ(error_of("{{ a ? b }}"), "chat template 1:6: syntax error: unexpected character '?'");
  EXPECT_EQ(error_of("{% include 'x' %}"),
            "chat template 1:4: syntax error: 'include' is not supported in chat templates");
}

TEST(JinjaErrors, RuntimeErrorsHaveLineAndColumn) {
  EXPECT_EQ(error_of("\n\n  {{ raise_exception('Roles must alternate') }}"),
            "chat template 3:6: raise_exception: Roles must alternate");
  EXPECT_EQ(error_of("{{ 1 // 0 }}"),
            "chat template 1:6: error: integer division or modulo by zero");
  EXPECT_EQ(error_of("{{ x | nosuchfilter }}"),
            "chat template 1:8: error: unknown filter 'nosuchfilter'");
  EXPECT_EQ(error_of("{{ x is nosuchtest }}"),
            "chat template 1:6: error: unknown test 'nosuchtest'");
  EXPECT_EQ(error_of("{{ foo() }}"), "chat template 1:4: error: 'foo' is undefined");
  EXPECT_EQ(error_of("{{ 1 + missing }}"), "chat template 1:6: error: 'missing' is undefined");
  EXPECT_EQ(error_of("{% for a, b in [1] %}{% endfor %}"),
            "chat template 1:4: error: cannot unpack a integer into loop variables");
  EXPECT_EQ(error_of("{% set x = 1 %}{% set x.y = 2 %}"),
            "chat template 1:19: error: cannot assign attribute 'y' of 'x': not a namespace");
  EXPECT_EQ(error_of("{{ 'a' < 1 }}"),
            "chat template 1:8: error: cannot compare string with integer");
}

TEST(JinjaErrors, HostileTemplatesFailCleanly) {
  std::string deep(5000, '(');
  EXPECT_NE(error_of("{{ " + deep + "1" + std::string(5000, ')') + " }}").find("nested too deeply"),
            std::string::npos);
  std::string blocks;
  for (int i = 0; i < 1000; ++i) blocks += "{% if true %}";
  EXPECT_NE(error_of(blocks).find("nested too deeply"), std::string::npos);
  EXPECT_NE(error_of("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}").find("recursed too deeply"),
            std::string::npos);
  EXPECT_NE(error_of("{% set r = range(300) %}{% for a in r %}{% for b in r %}{% for c in r %}"
                     "{% endfor %}{% endfor %}{% endfor %}")
                .find("step budget"),
            std::string::npos);
  EXPECT_NE(error_of("{{ range(10000000000) }}").find("too large"), std::string::npos);
  EXPECT_NE(error_of("{{ 'x' * 10000000000 }}").find("too large"), std::string::npos);
  EXPECT_NE(error_of("{% set l = [] %}{% do l.append(l) %}{{ l }}").find("nested too deeply"),
            std::string::npos);
  EXPECT_NE(error_of("{{ 9223372036854775807 + 1 }}").find("overflow"), std::string::npos);
  // Arbitrary bytes never crash.
  for (const char* s :
       {"{{", "{%", "{#", "{{}}", "{%%}", "{{ ) }}", "{{ [1, }}", "{{ {'a' }}", "{% for %}",
        "{% set %}", "{% macro %}", "{{ x[:: }}", "\xff\xfe{{ '\xc3' }}", "{% if %}{% elif %}",
        "{{ 'a' | }}", "{{ a is }}", "{% endfor %}", "{{ 1e999 }}", "{{ -9223372036854775808 }}"}) {
    try {
      ChatTemplate(s).render(ordered_json::object());
    } catch (const rlx::Error&) {
    }
  }
}

}  // namespace
