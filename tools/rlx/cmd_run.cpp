// rlx run <family|auto>: text generation with a decoder LLM (see docs/cli.md).
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "commands.h"
#include "rlx/core/error.h"
#include "rlx/core/log.h"
#include "rlx/io/npy.h"
#include "rlx/io/weights.h"
#include "rlx/models/families.h"
#include "rlx/text/jinja.h"

namespace rlx::cli {
namespace {

std::atomic<bool> g_interrupted{false};
void on_sigint(int) {
  g_interrupted = true;
}

struct RunFlags {
  std::string family;
  models::RunnerOptions runner;
  std::string device = "cpu", kv_type = "f32";
  std::optional<std::string> prompt, prompt_ids, system;
  bool chat = false, print_ids = false, quiet = false, no_think = false;
  int max_tokens = 256;
  std::optional<float> temperature, top_p, min_p, repeat_penalty, presence_penalty,
      frequency_penalty;
  std::optional<int> top_k;
  uint64_t seed = 0;
  std::vector<std::string> stop;
  std::string dump_logits;
};

std::vector<int32_t> parse_ids(const std::string& s) {
  std::vector<int32_t> ids;
  std::stringstream ss(s);
  std::string tok;
  while (std::getline(ss, tok, ',')) {
    size_t used = 0;
    long v = 0;
    try {
      v = std::stol(tok, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    RLX_CHECK(used > 0 && used == tok.size() && v >= 0 && v <= INT32_MAX,
              "--prompt-ids: '{}' is not a token id (expected comma-separated integers)", tok);
    ids.push_back(int32_t(v));
  }
  RLX_CHECK(!ids.empty(), "--prompt-ids is empty");
  return ids;
}

SamplingOptions sampling_from(const RunFlags& f, const SamplingOptions& defaults) {
  SamplingOptions s = defaults;
  if (f.temperature) s.temperature = *f.temperature;
  if (f.top_k) s.top_k = *f.top_k;
  if (f.top_p) s.top_p = *f.top_p;
  if (f.min_p) s.min_p = *f.min_p;
  if (f.repeat_penalty) s.repetition_penalty = *f.repeat_penalty;
  if (f.presence_penalty) s.presence_penalty = *f.presence_penalty;
  if (f.frequency_penalty) s.frequency_penalty = *f.frequency_penalty;
  s.seed = f.seed;
  return s;
}

void report(const models::GenerateResult& r, bool quiet) {
  if (quiet) return;
  double pp = r.prefill_seconds > 0 ? double(r.prefilled_tokens) / r.prefill_seconds : 0;
  double tg = r.decode_seconds > 0 ? double(r.tokens.size()) / r.decode_seconds : 0;
  log_info(
      "\nprompt: {} tokens ({} prefilled) {:.1f} tok/s; generated {} tokens {:.1f} tok/s; stop: {}",
      r.prompt_tokens, r.prefilled_tokens, pp, r.tokens.size(), tg, r.stop_reason);
}

int run_generate(RunFlags& f) {
  if (f.quiet) set_log_level(LogLevel::Warn);
  int modes = int(f.prompt.has_value()) + int(f.prompt_ids.has_value());
  RLX_CHECK(modes <= 1, "give either --prompt or --prompt-ids, not both");
  RLX_CHECK(modes == 1 || f.chat,
            "nothing to do: give --prompt TEXT, --prompt-ids 1,2,3 or --chat");
  RLX_CHECK(!(f.chat && f.prompt_ids),
            "--chat formats text turns; it cannot be combined with --prompt-ids");
  RLX_CHECK(f.max_tokens >= 0, "--max-tokens must be >= 0");
  f.runner.device = Device::parse(f.device);
  RLX_CHECK(f.kv_type == "f32" || f.kv_type == "f16", "--kv-type must be f32 or f16, got '{}'",
            f.kv_type);
  f.runner.kv_type = f.kv_type == "f16" ? DType::F16 : DType::F32;
  f.runner.verbose = !f.quiet;
  const auto& fam = models::decoder_family_for(f.family, f.runner.weights, f.runner.prefer);
  models::DecoderRunner runner = models::DecoderRunner::Builder(fam).options(f.runner).build();
  const text::Tokenizer* tok = runner.tokenizer();
  std::signal(SIGINT, on_sigint);

  models::GenerateOptions go;
  go.max_tokens = f.max_tokens;
  go.stop = f.stop;
  go.sampling = sampling_from(f, runner.default_sampling());
  const bool print_ids = f.print_ids || tok == nullptr;
  std::vector<int32_t> printed;
  auto on_token = [&](int32_t id, const std::string& text) {
    if (print_ids) {
      if (id >= 0) printed.push_back(id);
    } else {
      std::fwrite(text.data(), 1, text.size(), stdout);
      std::fflush(stdout);
    }
    return !g_interrupted.load();
  };
  auto finish_ids = [&]() {
    if (!print_ids) return;
    std::string s;
    for (size_t i = 0; i < printed.size(); ++i) s += (i ? "," : "") + std::to_string(printed[i]);
    std::printf("%s\n", s.c_str());
    printed.clear();
  };

  if (!f.chat) {
    std::vector<int32_t> ids;
    if (f.prompt_ids) {
      ids = parse_ids(*f.prompt_ids);
    } else {
      RLX_CHECK(tok != nullptr,
                "this checkpoint has no tokenizer: use --prompt-ids or --tokenizer");
      if (auto bos = runner.bos_for_prompt()) ids.push_back(*bos);
      auto enc = tok->encode(*f.prompt);
      ids.insert(ids.end(), enc.begin(), enc.end());
    }
    RLX_CHECK(!ids.empty(), "the prompt encodes to no tokens");
    if (!f.dump_logits.empty()) {
      Tensor logits = runner.predict_logits(ids);
      io::write_npy(f.dump_logits, logits.view());
      log_info("wrote logits {} to {}", logits.shape().str(), f.dump_logits);
    }
    if (f.max_tokens == 0) return 0;
    auto r = runner.generate_ids(ids, go, on_token, runner.cache());
    if (!print_ids) std::printf("\n");
    finish_ids();
    report(r, f.quiet);
    return g_interrupted ? 130 : 0;
  }

  // Chat: the template formats the whole conversation; the KV cache keeps the shared prefix so
  // only the new turn is prefilled.
  RLX_CHECK(tok != nullptr, "--chat needs a tokenizer");
  RLX_CHECK(runner.chat_template().has_value(), "this checkpoint has no chat template");
  text::ChatTemplate tpl(*runner.chat_template());
  nlohmann::ordered_json messages = nlohmann::ordered_json::array();
  if (f.system) messages.push_back({{"role", "system"}, {"content", *f.system}});
  nlohmann::ordered_json extra = nlohmann::ordered_json::object();
  if (auto b = tok->bos_id()) extra["bos_token"] = tok->token_text(*b);
  if (auto e = tok->eos_id()) extra["eos_token"] = tok->token_text(*e);
  if (f.no_think) extra["enable_thinking"] = false;
  const bool interactive = !f.prompt && isatty(STDIN_FILENO);
  auto turn = [&](const std::string& user) {
    messages.push_back({{"role", "user"}, {"content", user}});
    std::string text = text::render_chat(tpl, messages, true, extra);
    auto ids = tok->encode(text);
    g_interrupted = false;
    auto r = runner.generate_ids(ids, go, on_token, runner.cache());
    std::printf("\n");
    finish_ids();
    report(r, f.quiet);
    messages.push_back({{"role", "assistant"}, {"content", r.text}});
  };
  if (f.prompt) {
    turn(*f.prompt);
    return 0;
  }
  std::string line;
  while (true) {
    if (interactive) std::fprintf(stderr, "> ");
    if (!std::getline(std::cin, line)) break;
    if (line.empty()) continue;
    turn(line);
  }
  return 0;
}

}  // namespace

Runner add_run(CLI::App& app) {
  auto f = std::make_shared<RunFlags>();
  auto* cmd = app.add_subcommand(
      "run", "Generate text with a decoder LLM (family name, or auto to detect it)");
  cmd->add_option(
         "family", f->family,
         "Model family (llama, qwen2, qwen3, gemma, gemma2, gemma3_text, minicpm5) or auto")
      ->required();
  cmd->add_option("-m,--weights", f->runner.weights,
                  "GGUF file, safetensors file or model directory")
      ->required();
  cmd->add_option("-p,--prompt", f->prompt, "Raw prompt text (no chat template)");
  cmd->add_option("--prompt-ids", f->prompt_ids,
                  "Comma-separated token ids (bypasses the tokenizer)");
  cmd->add_flag("--chat", f->chat, "Chat with the model's template (interactive on a terminal)");
  cmd->add_option("--system", f->system, "System message for --chat");
  cmd->add_flag("--no-think", f->no_think, "Pass enable_thinking=false to the chat template");
  cmd->add_option("-n,--max-tokens", f->max_tokens, "Tokens to generate (0: only --dump-logits)");
  cmd->add_option("--temperature,--temp", f->temperature, "Sampling temperature (0 = greedy)");
  cmd->add_option("--top-k", f->top_k, "Top-k (<= 0: off)");
  cmd->add_option("--top-p", f->top_p, "Top-p (1: off)");
  cmd->add_option("--min-p", f->min_p, "Min-p (0: off)");
  cmd->add_option("--repeat-penalty", f->repeat_penalty, "Repetition penalty (1: off)");
  cmd->add_option("--presence-penalty", f->presence_penalty, "Presence penalty");
  cmd->add_option("--frequency-penalty", f->frequency_penalty, "Frequency penalty");
  cmd->add_option("--seed", f->seed, "Random seed");
  cmd->add_option("--stop", f->stop, "Stop string (repeatable)");
  cmd->add_option("--max-seq", f->runner.max_seq,
                  "KV cache capacity in tokens (default: min(4096, context length))")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--max-memory-gb", f->runner.max_memory_gb,
                  "Refuse to load beyond this much memory");
  cmd->add_option("--device", f->device, "cpu, cuda or cuda:N");
  cmd->add_option("--precision", f->runner.precision,
                  "Compute precision of the matrix products: f32 (default; the CPU's only), or f16 "
                  "/ bf16 on CUDA (F32 weight matrices become 16-bit on the device)")
      ->check(CLI::IsMember({"f32", "f16", "bf16"}));
  cmd->add_option("--kv-type", f->kv_type, "KV cache type: f32 (default) or f16");
  cmd->add_option("--prefer", f->runner.prefer,
                  "Pick the GGUF whose name contains this in a directory");
  cmd->add_option("--ubatch", f->runner.prefill_chunk,
                  "Prompt tokens per prefill step (default 512): larger is faster on long prompts "
                  "and uses more activation memory")
      ->check(CLI::Range(1, 8192));
  cmd->add_option("--tokenizer", f->runner.tokenizer,
                  "tokenizer.json to use instead of the checkpoint's");
  cmd->add_option("--dump-logits", f->dump_logits,
                  "Write float32 [n_prompt, vocab] prompt logits to this .npy");
  cmd->add_flag("--print-ids", f->print_ids, "Print generated token ids instead of text");
  cmd->add_flag("-q,--quiet", f->quiet, "Only warnings and errors on stderr");
  add_threads_flag(*cmd, f->runner.threads);
  return [f]() { return run_generate(*f); };
}

}  // namespace rlx::cli
