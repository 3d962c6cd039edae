// Byte-for-byte parity of the chat-template interpreter with @huggingface/jinja on real model
// templates. Expected outputs: tests/fixtures/chat/expected_<name>.json, made by
// scripts/ref/render_chat_ref.mjs from conversations.json and the templates of templates.json
// (read from the fetched test data; a missing file fails the test).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "rlx/core/error.h"
#include "rlx/text/jinja.h"
#include "support/test_data.h"

namespace {

using nlohmann::ordered_json;

std::string read_file(const std::string& path) {
  std::ifstream f(rlx::test::require_file(path), std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

ordered_json read_json(const std::string& path) {
  std::string text = read_file(path);
  if (text.empty()) return ordered_json();
  return ordered_json::parse(text);
}

// RLX_CHAT_FIXTURES points the test at another fixture folder (for sweeping more templates).
std::string fixtures_dir() {
  const char* env = std::getenv("RLX_CHAT_FIXTURES");
  return env && *env ? env : rlx::test::repo_dir() + "/tests/fixtures/chat";
}

struct Loaded {
  std::string source;
  ordered_json bos, eos;
};

// Mirrors loadTemplate() of render_chat_ref.mjs.
Loaded load_template(const ordered_json& entry) {
  const std::string path = rlx::test::data_dir() + "/" + entry["path"].get<std::string>();
  Loaded t;
  if (path.size() > 5 && path.substr(path.size() - 5) == ".json") {
    ordered_json cfg = read_json(path);
    if (cfg.is_null()) return t;
    ordered_json tpl = cfg["chat_template"];
    if (tpl.is_array()) {
      for (const auto& x : tpl)
        if (x["name"] == "default") tpl = x["template"];
    }
    t.source = tpl.get<std::string>();
    auto tok = [](const ordered_json& x) {
      return x.is_object() ? x["content"] : x.is_null() ? ordered_json() : x;
    };
    t.bos = tok(cfg.value("bos_token", ordered_json()));
    t.eos = tok(cfg.value("eos_token", ordered_json()));
  } else {
    t.source = read_file(path);
    t.bos = entry.value("bos_token", ordered_json());
    t.eos = entry.value("eos_token", ordered_json());
  }
  return t;
}

// Mirrors contextFor() of render_chat_ref.mjs (same key order).
ordered_json context_for(const ordered_json& conv, const Loaded& tpl, const ordered_json& entry) {
  ordered_json ctx = entry.value("extra_vars", ordered_json::object());
  ctx["bos_token"] = tpl.bos;
  ctx["eos_token"] = tpl.eos;
  ctx["messages"] = conv["messages"];
  ctx["add_generation_prompt"] = conv["add_generation_prompt"];
  if (conv.contains("tools")) ctx["tools"] = conv["tools"];
  if (conv.contains("enable_thinking")) ctx["enable_thinking"] = conv["enable_thinking"];
  return ctx;
}

TEST(JinjaParity, MatchesHuggingFaceJinja) {
  const std::string dir = fixtures_dir();
  ordered_json manifest = read_json(dir + "/templates.json");
  ordered_json convs = read_json(rlx::test::repo_dir() + "/tests/fixtures/chat/conversations.json");
  ASSERT_TRUE(manifest.is_object() && convs.is_object());
  int total = 0, matched = 0, skipped = 0;
  bool qwen3_seen = false;
  for (const auto& entry : manifest["templates"]) {
    const std::string name = entry["name"];
    qwen3_seen |= name == "qwen3";
    Loaded tpl = load_template(entry);
    ASSERT_FALSE(tpl.source.empty()) << "no template for " << name;
    ordered_json expected = read_json(dir + "/expected_" + name + ".json");
    ASSERT_TRUE(expected.is_object()) << "missing expected_" << name << ".json";
    std::unique_ptr<rlx::text::ChatTemplate> t;
    try {
      t = std::make_unique<rlx::text::ChatTemplate>(tpl.source);
    } catch (const rlx::Error& e) {
      ADD_FAILURE() << name << ": parse failed: " << e.what();
      continue;
    }
    for (const auto& want : expected["results"]) {
      const std::string conv_name = want["conversation"];
      const ordered_json* conv = nullptr;
      for (const auto& c : convs["conversations"])
        if (c["name"] == conv_name) conv = &c;
      ASSERT_NE(conv, nullptr) << conv_name;
      if (want.contains("reference_error")) {  // the reference itself failed: nothing to compare
        ++skipped;
        continue;
      }
      ++total;
      std::string got, error;
      try {
        got = t->render(context_for(*conv, tpl, entry));
      } catch (const rlx::Error& e) {
        error = e.what();
      }
      if (want.contains("output")) {
        const std::string out = want["output"];
        if (error.empty() && got == out) {
          ++matched;
        } else {
          ADD_FAILURE() << name << " / " << conv_name << ":\n"
                        << (error.empty() ? "--- got:\n" + got : "--- error: " + error)
                        << "\n--- expected:\n"
                        << out;
        }
      } else {
        // The reference raised: rlx must raise too, with the template's own message if the
        // template raised it (raise_exception); other reference errors are its own wording.
        const std::string msg = want["error"];
        bool raised = error.find("raise_exception: ") != std::string::npos;
        bool same =
            raised ? error.substr(error.find("raise_exception: ") + 17) == msg : !error.empty();
        if (same) {
          ++matched;
        } else {
          ADD_FAILURE() << name << " / " << conv_name << ": expected the error '" << msg
                        << "', got " << (error.empty() ? "output:\n" + got : "error: " + error);
        }
      }
    }
  }
  if (!std::getenv("RLX_CHAT_FIXTURES")) {
    EXPECT_TRUE(qwen3_seen);
  }
  std::printf("chat template parity: %d/%d renders match (%d not compared: the reference failed)\n",
              matched, total, skipped);
  EXPECT_EQ(matched, total);
}

// Randomly mutated real templates (deleted bytes, inserted tag/operator fragments, duplicated
// spans) must render or fail with rlx::Error: never crash or hang. Fixed seed: reproducible.
TEST(JinjaParity, MutatedTemplatesFailCleanly) {
  std::vector<std::string> sources;
  const std::string dir = rlx::test::data_dir() + "/llama.cpp/models/templates";
  ASSERT_TRUE(std::filesystem::is_directory(rlx::test::require_file(dir)));
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().extension() == ".jinja") sources.push_back(read_file(e.path().string()));
  std::sort(sources.begin(), sources.end());
  ASSERT_FALSE(sources.empty());
  ordered_json convs =
      read_json(rlx::test::repo_dir() + "/tests/fixtures/chat/conversations.json")["conversations"];
  const char* fragments[] = {"{{", "}}",   "{%",    "%}", "(",    ")",      "[",    "]",
                             "|",  " is ", " not ", "-",  "'",    "\"",     "{",    "}",
                             ",",  ".",    ":",     "~",  " if ", " else ", "loop", "\xc3"};
  std::mt19937 rng(1234);
  int rendered = 0, failed = 0;
  for (int it = 0; it < 3000; ++it) {
    std::string s = sources[rng() % sources.size()];
    for (int m = 1 + int(rng() % 4); m > 0 && !s.empty(); --m) {
      size_t p = rng() % s.size();
      switch (rng() % 3) {
        case 0:
          s.erase(p, 1 + rng() % 8);
          break;
        case 1:
          s.insert(p, fragments[rng() % std::size(fragments)]);
          break;
        default: {
          size_t q = rng() % s.size();
          s.insert(p, s.substr(q, std::min<size_t>(rng() % 40, s.size() - q)));
        }
      }
    }
    try {
      rlx::text::ChatTemplate t(s);
      ordered_json ctx = convs[rng() % convs.size()];
      ctx["bos_token"] = "<s>";
      t.render(ctx);
      ++rendered;
    } catch (const rlx::Error&) {
      ++failed;
    }
  }
  EXPECT_GT(rendered, 0);
  EXPECT_GT(failed, 0);
}

}  // namespace
