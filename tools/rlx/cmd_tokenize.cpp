// rlx tokenize: text → token ids with a checkpoint's tokenizer (CONVENTIONS.md "Tokenization").
#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <iterator>
#include <sstream>

#include "commands.h"
#include "rlx/core/error.h"
#include "rlx/io/weights.h"
#include "rlx/text/tokenizer.h"

namespace rlx::cli {
namespace {

namespace fs = std::filesystem;

struct TokFlags {
  std::string model, tokenizer, decode;
  std::optional<std::string> text;
  bool json = false, jsonl = false, add_special = false;
};

text::Tokenizer load_tokenizer(const TokFlags& f) {
  RLX_CHECK(f.model.empty() != f.tokenizer.empty(),
            "give exactly one of -m/--weights MODEL or --tokenizer PATH");
  if (!f.tokenizer.empty()) {
    fs::path p = f.tokenizer;
    if (fs::is_directory(p)) p /= "tokenizer.json";
    if (p.extension() == ".gguf") return text::Tokenizer::from_gguf(io::GgufFile::open(p.string()));
    fs::path cfg = p.parent_path() / "tokenizer_config.json";
    return text::Tokenizer::from_hf_json(p.string(), fs::exists(cfg) ? cfg.string() : "");
  }
  auto files = io::resolve_model_files(f.model);
  if (files.format == io::WeightFormat::Gguf)
    return text::Tokenizer::from_gguf(io::GgufFile::open(files.files.front()));
  fs::path tj = fs::path(files.dir) / "tokenizer.json";
  RLX_CHECK(fs::exists(tj), "{}: no tokenizer.json next to the weights", files.dir);
  fs::path cfg = fs::path(files.dir) / "tokenizer_config.json";
  return text::Tokenizer::from_hf_json(tj.string(), fs::exists(cfg) ? cfg.string() : "");
}

std::string join_ids(const std::vector<int32_t>& ids) {
  std::string s;
  for (size_t i = 0; i < ids.size(); ++i) s += (i ? "," : "") + std::to_string(ids[i]);
  return s;
}

int run_tokenize(const TokFlags& f) {
  text::Tokenizer tok = load_tokenizer(f);
  if (!f.decode.empty()) {
    std::vector<int32_t> ids;
    std::stringstream ss(f.decode);
    std::string t;
    while (std::getline(ss, t, ',')) {
      RLX_CHECK(
          !t.empty() && t.find_first_not_of("0123456789") == std::string::npos && t.size() < 10,
          "--decode: '{}' is not a token id", t);
      ids.push_back(int32_t(std::stol(t)));
    }
    std::string s = tok.decode(ids);
    std::fwrite(s.data(), 1, s.size(), stdout);
    std::printf("\n");
    return 0;
  }
  if (f.jsonl) {
    std::string line;
    while (std::getline(std::cin, line)) {
      if (line.empty()) continue;
      nlohmann::json in;
      try {
        in = nlohmann::json::parse(line);
      } catch (const nlohmann::json::exception& e) {
        fail("--jsonl: input line is not JSON: {}", e.what());
      }
      RLX_CHECK(in.is_string(), "--jsonl: every input line must be a JSON string");
      std::printf(
          "%s\n",
          nlohmann::json{{"ids", tok.encode(in.get<std::string>(), f.add_special)}}.dump().c_str());
    }
    return 0;
  }
  std::string text = f.text ? *f.text : std::string(std::istreambuf_iterator<char>(std::cin), {});
  auto ids = tok.encode(text, f.add_special);
  if (f.json) {
    nlohmann::ordered_json out;
    out["ids"] = ids;
    std::vector<std::string> pieces;
    for (auto id : ids) pieces.push_back(tok.token_text(id));
    out["pieces"] = pieces;
    std::printf("%s\n", out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  } else {
    std::printf("%s\n", join_ids(ids).c_str());
  }
  return 0;
}

}  // namespace

Runner add_tokenize(CLI::App& app) {
  auto f = std::make_shared<TokFlags>();
  auto* cmd = app.add_subcommand("tokenize", "Encode text to token ids (or --decode ids)");
  cmd->add_option("-m,--weights", f->model, "Model (GGUF or a directory with tokenizer.json)");
  cmd->add_option("--tokenizer", f->tokenizer, "tokenizer.json (or a .gguf) to use");
  cmd->add_option("--text", f->text, "Text to encode (default: all of stdin)");
  cmd->add_flag("--json", f->json, "Print {\"ids\": [...], \"pieces\": [...]}");
  cmd->add_flag("--jsonl", f->jsonl, "Batch mode: each stdin line is a JSON string");
  cmd->add_flag("--add-special", f->add_special, "Add BOS/EOS as the tokenizer config says");
  cmd->add_option("--decode", f->decode, "Print the text of these comma-separated ids");
  return [f]() { return run_tokenize(*f); };
}

}  // namespace rlx::cli
