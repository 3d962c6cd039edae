// Public API (include/rlx/text/jinja.h): parse once, render many times.
#include "rlx/core/error.h"
#include "rlx/text/jinja.h"
#include "text/jinja/ast.h"
#include "text/jinja/interpreter.h"

namespace rlx::text {

struct ChatTemplate::Impl {
  std::string source;
  jinja::Body program;
};

ChatTemplate::ChatTemplate(std::string source) : impl_(std::make_unique<Impl>()) {
  impl_->source = std::move(source);
  impl_->program = jinja::parse_template(jinja::tokenize(impl_->source));
}

ChatTemplate::~ChatTemplate() = default;
ChatTemplate::ChatTemplate(ChatTemplate&&) noexcept = default;
ChatTemplate& ChatTemplate::operator=(ChatTemplate&&) noexcept = default;

const std::string& ChatTemplate::source() const {
  return impl_->source;
}

namespace {

std::string render_value(const jinja::Body& program, const jinja::Value& context) {
  RLX_CHECK(context.is_object() || context.is_none(),
            "chat template context must be a JSON object, got a {}", context.type_name());
  jinja::Interpreter interpreter;
  try {
    return interpreter.render(program, context);
  } catch (const jinja::EvalError& e) {  // errors outside any node (should not happen)
    rlx::fail("chat template error: {}", e.what());
  } catch (const jinja::RaisedError& e) {
    rlx::fail("chat template raise_exception: {}", e.what());
  }
}

}  // namespace

std::string ChatTemplate::render(const nlohmann::ordered_json& context) const {
  return render_value(impl_->program, jinja::from_json(context));
}

std::string ChatTemplate::render(const nlohmann::json& context) const {
  return render_value(impl_->program, jinja::from_json(context));
}

std::string render_chat(const ChatTemplate& tpl, const nlohmann::ordered_json& messages,
                        bool add_generation_prompt, const nlohmann::ordered_json& extra_vars) {
  RLX_CHECK(messages.is_array(), "chat messages must be a JSON array");
  RLX_CHECK(extra_vars.is_null() || extra_vars.is_object(),
            "chat template variables must be a JSON object");
  nlohmann::ordered_json ctx =
      extra_vars.is_object() ? extra_vars : nlohmann::ordered_json::object();
  ctx["messages"] = messages;
  ctx["add_generation_prompt"] = add_generation_prompt;
  return tpl.render(ctx);
}

}  // namespace rlx::text
