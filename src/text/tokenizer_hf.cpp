// Loading a BPE tokenizer (byte-level, or SentencePiece-style with byte_fallback) from Hugging Face
// tokenizer.json (+ tokenizer_config.json).
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "rlx/core/error.h"
#include "rlx/text/tokenizer.h"
#include "text/tokenizer_impl.h"

namespace rlx::text {

namespace {

using nlohmann::json;

json read_json(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  RLX_CHECK(in.good(), "cannot open tokenizer file '{}'", path);
  std::stringstream ss;
  ss << in.rdbuf();
  try {
    return json::parse(ss.str());
  } catch (const json::exception& e) {
    fail("malformed JSON in '{}': {}", path, e.what());
  }
}

// PCRE2 literal for a Split pattern given as {"String": "..."}.
std::string quote_literal(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (std::string_view("\\^$.|?*+()[]{}").find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

struct Loader {
  const std::string& path;
  Tokenizer::Impl& m;

  [[noreturn]] void bad(const std::string& what) const { fail("{}: {}", path, what); }

  void normalizer(const json& j) {
    if (j.is_null()) return;
    const std::string type = j.value("type", "");
    if (type == "NFC") {
      m.nfc = true;
    } else if (type == "Sequence") {
      for (const auto& n : j.at("normalizers")) normalizer(n);
    } else if (type == "Replace") {
      // SentencePiece's space escaping is the one Replace supported.
      const json& pat = j.at("pattern");
      if (!pat.contains("String") || pat["String"] != " " ||
          j.value("content", "") != std::string(detail::kMetaSpace)) {
        bad("unsupported normalizer Replace " + j.dump() + " (supported: \" \" -> \"\u2581\")");
      }
      m.escape_spaces = true;
    } else if (type == "Prepend") {
      if (j.value("prepend", "") != std::string(detail::kMetaSpace)) {
        bad("unsupported normalizer Prepend " + j.dump() + " (supported: \"\u2581\")");
      }
      m.prepend_meta = true;
    } else {
      bad("unsupported normalizer type '" + type +
          "' (supported: NFC, Replace, Prepend, Sequence)");
    }
  }

  void pre_tokenizer(const json& j, bool& byte_level) {
    if (j.is_null()) return;
    const std::string type = j.value("type", "");
    if (type == "Sequence") {
      for (const auto& p : j.at("pretokenizers")) pre_tokenizer(p, byte_level);
    } else if (type == "Split" && m.escape_spaces && j.at("pattern").contains("String") &&
               j["pattern"]["String"] == " " && !j.value("invert", false)) {
      // Gemma: splitting on " " after the normalizer turned every space into "▁" finds nothing.
    } else if (type == "Split") {
      const json& pat = j.at("pattern");
      std::string regex;
      if (pat.contains("Regex")) {
        regex = pat["Regex"].get<std::string>();
      } else if (pat.contains("String")) {
        regex = quote_literal(pat["String"].get<std::string>());
      } else {
        bad("pre_tokenizer Split has no Regex or String pattern");
      }
      const std::string behavior = j.value("behavior", "Isolated");
      if (behavior != "Isolated" || j.value("invert", false)) {
        bad("unsupported pre_tokenizer Split behavior '" + behavior + "' (supported: Isolated)");
      }
      m.splitters.emplace_back(regex);
    } else if (type == "ByteLevel") {
      byte_level = true;
      if (j.value("use_regex", true)) m.splitters.emplace_back(detail::kGpt2Pattern);
      if (j.value("add_prefix_space", false)) m.add_prefix_space = true;
    } else {
      bad("unsupported pre_tokenizer type '" + type + "'");
    }
  }

  // Reads the TemplateProcessing that adds BOS/EOS (possibly inside a Sequence).
  // The decoder matters only for SentencePiece-style models: Replace("▁", " "), ByteFallback and
  // Fuse are what decode does anyway; Strip(" ", 1, 0) drops the leading space.
  void decoder(const json& j) {
    if (j.is_null()) return;
    const std::string type = j.value("type", "");
    if (type == "Sequence") {
      for (const auto& d : j.at("decoders")) decoder(d);
    } else if (type == "Strip") {
      const int start = j.value("start", 0), stop = j.value("stop", 0);
      if (j.value("content", " ") != " " || start > 1 || stop != 0) {
        bad("unsupported decoder Strip " + j.dump() + " (supported: content \" \", start <= 1)");
      }
      if (start == 1) m.strip_leading_space = true;
    } else if (type != "Replace" && type != "ByteFallback" && type != "Fuse") {
      bad("unsupported decoder type '" + type +
          "' for byte_fallback BPE (supported: Replace, ByteFallback, Fuse, Strip, Sequence)");
    }
  }

  void post_processor(const json& j, std::optional<int32_t>& bos, std::optional<int32_t>& eos) {
    if (j.is_null()) return;
    const std::string type = j.value("type", "");
    if (type == "Sequence") {
      for (const auto& p : j.at("processors")) post_processor(p, bos, eos);
    } else if (type == "TemplateProcessing") {
      const json& single = j.at("single");
      const json& specials = j.value("special_tokens", json::object());
      auto id_of = [&](const json& item) -> std::optional<int32_t> {
        if (!item.contains("SpecialToken")) return std::nullopt;
        const std::string name = item["SpecialToken"].at("id").get<std::string>();
        if (specials.contains(name) && !specials[name].at("ids").empty()) {
          return specials[name]["ids"][0].get<int32_t>();
        }
        auto it = m.piece_to_id.find(name);
        if (it == m.piece_to_id.end()) bad("post_processor names unknown token '" + name + "'");
        return it->second;
      };
      if (!single.empty()) bos = id_of(single.front());
      if (single.size() > 1) eos = id_of(single.back());
    }
  }
};

// A token setting in tokenizer_config.json: a string, {"content": ...} or null.
std::optional<std::string> config_token(const json& cfg, const char* key) {
  if (!cfg.contains(key) || cfg[key].is_null()) return std::nullopt;
  if (cfg[key].is_string()) return cfg[key].get<std::string>();
  if (cfg[key].is_object() && cfg[key].contains("content")) {
    return cfg[key]["content"].get<std::string>();
  }
  return std::nullopt;
}

}  // namespace

Tokenizer Tokenizer::from_hf_json(const std::string& tokenizer_json_path,
                                  const std::string& tokenizer_config_path) {
  const json j = read_json(tokenizer_json_path);
  auto m = std::make_unique<Impl>();
  Loader ld{tokenizer_json_path, *m};
  try {
    RLX_CHECK(j.is_object() && j.contains("model"), "{}: no 'model' section", tokenizer_json_path);
    const json& model = j["model"];
    const std::string type = model.value("type", "BPE");
    if (type != "BPE") ld.bad("unsupported model type '" + type + "' (supported: BPE)");
    const bool byte_fallback = model.value("byte_fallback", false);
    if (byte_fallback) m->kind = Tokenizer::Impl::Kind::kCharBpe;
    for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"}) {
      if (model.contains(key) && model[key].is_string() && !model[key].get<std::string>().empty()) {
        ld.bad(std::string("unsupported BPE option '") + key + "'");
      }
    }

    // Vocabulary and added tokens share one id space; added ids may lie past the vocab.
    const json& vocab = model.at("vocab");
    int64_t max_id = -1;
    for (auto it = vocab.begin(); it != vocab.end(); ++it) {
      max_id = std::max<int64_t>(max_id, it.value().get<int64_t>());
    }
    const json& added = j.value("added_tokens", json::array());
    for (const auto& a : added) max_id = std::max<int64_t>(max_id, a.at("id").get<int64_t>());
    RLX_CHECK(max_id >= 0 && max_id < (int64_t{1} << 31), "{}: empty or bad vocabulary",
              tokenizer_json_path);
    m->pieces.assign(static_cast<size_t>(max_id + 1), std::string());
    for (auto it = vocab.begin(); it != vocab.end(); ++it) {
      const int64_t id = it.value().get<int64_t>();
      RLX_CHECK(id >= 0, "{}: negative id for '{}'", tokenizer_json_path, it.key());
      m->pieces[static_cast<size_t>(id)] = it.key();
    }
    for (const auto& a : added) {
      detail::AddedToken t;
      t.content = a.at("content").get<std::string>();
      t.id = a.at("id").get<int32_t>();
      t.special = a.value("special", false);
      t.lstrip = a.value("lstrip", false);
      t.rstrip = a.value("rstrip", false);
      t.single_word = a.value("single_word", false);
      t.normalized = a.value("normalized", !t.special);
      m->pieces[static_cast<size_t>(t.id)] = t.content;
      m->added.push_back(std::move(t));
    }

    // Merges: "a b" strings (older files) or ["a", "b"] pairs (tokenizers >= 0.20).
    std::vector<std::pair<std::string, std::string>> merges;
    const json& mj = model.value("merges", json::array());
    merges.reserve(mj.size());
    for (const auto& e : mj) {
      if (e.is_string()) {
        const std::string s = e.get<std::string>();
        const size_t sp = s.find(' ', 1);
        if (sp == std::string::npos) ld.bad("merge '" + s + "' is not of the form 'a b'");
        merges.emplace_back(s.substr(0, sp), s.substr(sp + 1));
      } else if (e.is_array() && e.size() == 2) {
        merges.emplace_back(e[0].get<std::string>(), e[1].get<std::string>());
      } else {
        ld.bad("merge entry is neither 'a b' nor [a, b]: " + e.dump());
      }
    }

    ld.normalizer(j.value("normalizer", json()));
    bool byte_level = false;
    ld.pre_tokenizer(j.value("pre_tokenizer", json()), byte_level);
    if (byte_fallback) {
      if (byte_level) ld.bad("byte_fallback BPE with a ByteLevel pre_tokenizer is not supported");
      if (!m->splitters.empty())
        ld.bad("byte_fallback BPE with a regex pre_tokenizer is not supported");
      if (m->nfc) ld.bad("byte_fallback BPE with an NFC normalizer is not supported");
      ld.decoder(j.value("decoder", json()));
    } else {
      if (!byte_level) {
        ld.bad("BPE needs a ByteLevel pre_tokenizer or byte_fallback (SentencePiece style)");
      }
      if (m->escape_spaces || m->prepend_meta) {
        ld.bad("Replace/Prepend normalizers are supported only with byte_fallback BPE");
      }
    }
    m->finalize(merges, model.value("ignore_merges", false));

    std::optional<int32_t> tpl_bos, tpl_eos;
    ld.post_processor(j.value("post_processor", json()), tpl_bos, tpl_eos);
    m->bos = tpl_bos;
    m->eos = tpl_eos;
    m->add_bos = tpl_bos.has_value();
    m->add_eos = tpl_eos.has_value();
  } catch (const json::exception& e) {
    ld.bad(std::string("unexpected structure: ") + e.what());
  }

  if (!tokenizer_config_path.empty()) {
    const json cfg = read_json(tokenizer_config_path);
    try {
      auto lookup = [&](const char* key, std::optional<int32_t>& dst) {
        if (auto name = config_token(cfg, key)) {
          auto it = m->piece_to_id.find(*name);
          RLX_CHECK(it != m->piece_to_id.end(), "{}: {} '{}' is not in the vocabulary",
                    tokenizer_config_path, key, *name);
          dst = it->second;
        } else if (cfg.contains(key) && cfg[key].is_null()) {
          dst.reset();
        }
      };
      lookup("bos_token", m->bos);
      lookup("eos_token", m->eos);
      lookup("pad_token", m->pad);
      if (cfg.contains("add_bos_token") && cfg["add_bos_token"].is_boolean()) {
        m->add_bos = cfg["add_bos_token"].get<bool>();
      }
      if (cfg.contains("add_eos_token") && cfg["add_eos_token"].is_boolean()) {
        m->add_eos = cfg["add_eos_token"].get<bool>();
      }
      // transformers also treats additional_special_tokens as special (skip_special_tokens).
      if (cfg.contains("additional_special_tokens") &&
          cfg["additional_special_tokens"].is_array()) {
        for (const auto& t : cfg["additional_special_tokens"]) {
          std::string name = t.is_string() ? t.get<std::string>() : t.value("content", "");
          auto it = m->piece_to_id.find(name);
          if (it != m->piece_to_id.end()) m->special[it->second] = 1;
        }
      }
    } catch (const json::exception& e) {
      fail("{}: unexpected structure: {}", tokenizer_config_path, e.what());
    }
  }
  return Tokenizer(std::move(m));
}

}  // namespace rlx::text
