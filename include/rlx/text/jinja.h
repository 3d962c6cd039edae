// Chat-template renderer: an interpreter for the subset of Jinja that Hugging Face chat templates
// use (tokenizer_config.json "chat_template", GGUF tokenizer.chat_template). Output matches
// @huggingface/jinja, the renderer of transformers.js; docs/chat-templates.md lists what is
// supported and where rlx deliberately follows Python Jinja instead.
#pragma once
#include <nlohmann/json.hpp>

#include <memory>
#include <string>

namespace rlx::text {

class ChatTemplate {
 public:
  // Parses SOURCE; a syntax error throws rlx::Error naming the line:column.
  explicit ChatTemplate(std::string source);
  ~ChatTemplate();
  ChatTemplate(ChatTemplate&&) noexcept;
  ChatTemplate& operator=(ChatTemplate&&) noexcept;
  ChatTemplate(const ChatTemplate&) = delete;
  ChatTemplate& operator=(const ChatTemplate&) = delete;

  // Renders with the variables of CONTEXT (a JSON object: messages, tools, add_generation_prompt,
  // enable_thinking, bos_token, eos_token, ...). Object key order is kept as given, which
  // matters for `tojson` of tool definitions: prefer ordered_json. Runtime errors (including
  // the template's own raise_exception) throw rlx::Error naming the line:column.
  std::string render(const nlohmann::ordered_json& context) const;
  std::string render(const nlohmann::json& context) const;

  const std::string& source() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Formats a conversation: MESSAGES is a JSON array of {"role", "content", ...} objects;
// EXTRA_VARS (an object, may be null) adds variables such as tools, bos_token or enable_thinking.
std::string render_chat(const ChatTemplate& tpl, const nlohmann::ordered_json& messages,
                        bool add_generation_prompt,
                        const nlohmann::ordered_json& extra_vars = nlohmann::ordered_json());

}  // namespace rlx::text
