#include "rlx/models/decoder_runner.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "rlx/core/error.h"
#include "rlx/core/log.h"
#include "rlx/io/weights.h"
#include "rlx/models/registry.h"
#include "rlx/runtime/program.h"

namespace rlx::models {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// Parsing GGUF metadata (150k-entry vocabularies, twice: detection, then load) leaves tens of
// MiB of freed heap that glibc keeps mapped; hand it back so it does not count against RSS.
void release_free_heap() {
#ifdef __GLIBC__
  malloc_trim(0);
#endif
}

constexpr int64_t kDefaultPrefillChunk =
    512;  // as llama.cpp's n_ubatch; bounds the activation arena

std::optional<json> read_json(const fs::path& p) {
  if (!fs::exists(p)) return std::nullopt;
  std::ifstream in(p);
  try {
    return json::parse(in);
  } catch (const json::exception& e) {
    fail("{}: invalid JSON: {}", p.string(), e.what());
  }
}

// The decode graph's weights as the device will hold them, the KV cache and a workspace
// estimate against the device's free memory (and max_memory_gb), before anything is uploaded.
// Weights another runner of this process already uploaded count again (an overestimate).
void check_device_memory(const ir::Graph& decode, const nn::DecoderSpec& spec,
                         const RunnerOptions& o, DType precision) {
  const std::optional<DeviceMemory> mem = device_memory(o.device);
  if (!mem) return;
  double w = 0;
  std::set<const void*> seen;  // a tied embedding / lm_head is one upload
  for (const auto& [v, t] : decode.param_data) {
    if (!seen.insert(t.data).second) continue;
    w += double(device_weight_bytes(o.device, t, precision));
  }
  const double kv = double(spec.kv_bytes_per_token(o.kv_type)) * double(o.max_seq);
  const int64_t chunk = o.prefill_chunk > 0 ? o.prefill_chunk : kDefaultPrefillChunk;
  // Prefill activations (a few hidden- and FFN-wide rows per token) and the dequantization
  // scratch of quantized prefill GEMMs.
  const double work = double(64 << 20) + double(chunk) * double(6 * spec.hidden + 3 * spec.ffn) * 4;
  const double need = w + kv + work, gib = double(1ull << 30);
  RLX_CHECK(need <= double(mem->free_bytes),
            "{} ({}): weights {:.2f} GiB + KV cache for {} tokens {:.2f} GiB + workspace about "
            "{:.2f} GiB need {:.2f} GiB, but {:.2f} GiB of {:.2f} GiB is free; lower --max-seq, "
            "use --kv-type f16 or a quantized file",
            o.device.str(), mem->name, w / gib, o.max_seq, kv / gib, work / gib, need / gib,
            double(mem->free_bytes) / gib, double(mem->total_bytes) / gib);
  if (o.max_memory_gb > 0)
    RLX_CHECK(need <= o.max_memory_gb * gib,
              "{}: weights {:.2f} GiB + KV cache {:.2f} GiB + workspace about {:.2f} GiB exceed "
              "max_memory_gb = {}",
              o.device.str(), w / gib, kv / gib, work / gib, o.max_memory_gb);
}

}  // namespace

void check_family(const DecoderFamily& family, const std::string& arch, const std::string& source) {
  for (auto& a : family.archs)
    if (a == arch) return;
  auto other = family_for_arch(arch);
  if (other) fail("{} is a '{}' model; run it with `rlx run {}`", source, arch, other->name);
  fail("{} has architecture '{}', which the {} family does not support (expected {})", source,
       arch.empty() ? "(none)" : arch, family.name, fmt::join(family.archs, " or "));
}

struct DecoderRunner::Impl {
  RunnerOptions opt;
  std::shared_ptr<io::WeightStore> weights;
  nn::DecoderSpec spec;
  std::vector<Tensor> owned;  // converted small params and RoPE tables
  std::unique_ptr<ProgramCache> programs;
  std::optional<text::Tokenizer> tokenizer;
  std::optional<std::string> chat_template;
  std::vector<int32_t> eos;
  SamplingOptions sampling;
  KvCache cache;
};

DecoderRunner::DecoderRunner(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
DecoderRunner::DecoderRunner(DecoderRunner&&) noexcept = default;
DecoderRunner& DecoderRunner::operator=(DecoderRunner&&) noexcept = default;
DecoderRunner::~DecoderRunner() = default;

DecoderRunner DecoderRunner::Builder::build() const {
  const RunnerOptions& o = o_;
  RLX_CHECK(!o.weights.empty(), "no weights given (--weights PATH)");
  RLX_CHECK(o.precision == "f32" || o.precision == "f16" || o.precision == "bf16",
            "precision '{}' is not one of f32, f16, bf16", o.precision);
  const DType precision =
      o.precision == "f16" ? DType::F16 : (o.precision == "bf16" ? DType::BF16 : DType::F32);
  RLX_CHECK(precision == DType::F32 || o.device.kind == Device::Kind::Cuda,
            "precision '{}' needs --device cuda (the CPU computes in f32)", o.precision);
  RLX_CHECK(o.max_seq >= 0, "max_seq must be positive, got {}", o.max_seq);
  RLX_CHECK(o.prefill_chunk >= 0 && o.prefill_chunk <= 8192,
            "prefill chunk (--ubatch) must be between 1 and 8192 tokens, got {}", o.prefill_chunk);
  auto t0 = std::chrono::steady_clock::now();
  auto impl = std::make_unique<Impl>();
  impl->opt = o;
  impl->weights = io::WeightStore::open(o.weights, o.prefer);
  const auto& files = impl->weights->files();
  fs::path dir = files.dir;

  // Config and weight names.
  std::optional<json> gen_config;
  if (const io::GgufFile* g = impl->weights->gguf()) {
    check_family(*family_, g->architecture(), g->path());
    impl->spec = family_->from_gguf(*g);
    impl->weights->set_name_map(family_->gguf_name);
    if (o.tokenizer.empty() && g->has("tokenizer.ggml.tokens"))
      impl->tokenizer = text::Tokenizer::from_gguf(*g);
    if (auto t = g->string_or("tokenizer.chat_template")) impl->chat_template = *t;
    for (const char* key : {"tokenizer.ggml.eos_token_id", "tokenizer.ggml.eot_token_id",
                            "tokenizer.ggml.eom_token_id"})
      if (auto id = g->int_or(key)) impl->eos.push_back(int32_t(*id));
    impl->weights->drop_large_gguf_arrays(4096);  // the tokenizer holds its own copy now
  } else {
    auto config = read_json(dir / "config.json");
    RLX_CHECK(config.has_value(), "{}: config.json not found next to the safetensors weights",
              dir.string());
    std::string mt = config->value("model_type", "");
    check_family(*family_, mt, (dir / "config.json").string());
    impl->spec = family_->from_hf(*config);
    gen_config = read_json(dir / "generation_config.json");
    if (o.tokenizer.empty() && fs::exists(dir / "tokenizer.json")) {
      fs::path tc = dir / "tokenizer_config.json";
      impl->tokenizer = text::Tokenizer::from_hf_json((dir / "tokenizer.json").string(),
                                                      fs::exists(tc) ? tc.string() : "");
      if (auto cfg = read_json(tc);
          cfg && cfg->contains("chat_template") && (*cfg)["chat_template"].is_string())
        impl->chat_template = (*cfg)["chat_template"].get<std::string>();
    }
    if (auto jt = dir / "chat_template.jinja"; !impl->chat_template && fs::exists(jt)) {
      std::ifstream in(jt);
      impl->chat_template = std::string(std::istreambuf_iterator<char>(in), {});
    }
  }
  if (!o.tokenizer.empty()) impl->tokenizer = text::Tokenizer::from_hf_json(o.tokenizer);
  if (impl->tokenizer && impl->tokenizer->eos_id()) impl->eos.push_back(*impl->tokenizer->eos_id());
  if (gen_config) {
    auto eos = (*gen_config)["eos_token_id"];
    if (eos.is_number_integer()) impl->eos.push_back(eos.get<int32_t>());
    if (eos.is_array())
      for (auto& e : eos)
        if (e.is_number_integer()) impl->eos.push_back(e.get<int32_t>());
    auto& s = impl->sampling;
    s.temperature = gen_config->value("temperature", s.temperature);
    s.top_k = gen_config->value("top_k", s.top_k);
    s.top_p = gen_config->value("top_p", s.top_p);
    s.min_p = gen_config->value("min_p", s.min_p);
    s.repetition_penalty = gen_config->value("repetition_penalty", s.repetition_penalty);
    if (!gen_config->value("do_sample", true)) s.temperature = 0.f;
  }

  // Limits, checked before anything large is allocated.
  const nn::DecoderSpec& spec = impl->spec;
  if (impl->opt.max_seq == 0)
    impl->opt.max_seq = spec.max_positions > 0 ? std::min<int64_t>(4096, spec.max_positions) : 4096;
  const int64_t max_seq = impl->opt.max_seq;
  if (spec.max_positions > 0)
    RLX_CHECK(max_seq <= spec.max_positions, "max_seq {} exceeds the model's context length {}",
              max_seq, spec.max_positions);
  const double kv_bytes = double(spec.kv_bytes_per_token(o.kv_type)) * double(max_seq);
  const double weight_bytes = double(impl->weights->total_bytes());
  if (o.max_memory_gb > 0) {
    const double limit = o.max_memory_gb * double(1ull << 30);
    RLX_CHECK(
        kv_bytes + weight_bytes <= limit,
        "weights ({:.2f} GiB) + KV cache for {} tokens ({:.2f} GiB) exceed max_memory_gb = {}; "
        "lower --max-seq or use --kv-type f16",
        weight_bytes / double(1ull << 30), max_seq, kv_bytes / double(1ull << 30), o.max_memory_gb);
  }
  // Large checkpoints: read the mapping up front with a progress bar instead of stalling
  // silently inside the first forward pass. On CUDA the upload reads each tensor once and
  // gives its pages back right after (reading everything first would hold the whole file).
  if (o.verbose && weight_bytes > double(256ll << 20) && o.device.kind == Device::Kind::Cpu) {
    const std::string name = fs::path(files.files.front()).filename().string();
    impl->weights->prefetch([&](int64_t done, int64_t total) {
      log_progress("loading " + name, double(done) / double(total),
                   fmt::format("{:.2f}/{:.2f} GiB", double(done) / double(1ll << 30),
                               double(total) / double(1ll << 30)));
    });
  }
  if (o.verbose && o.device.kind != Device::Kind::Cpu)
    log_info("uploading {:.2f} GiB of weights to {}", weight_bytes / double(1ull << 30),
             o.device.str());
  CompileOptions co;
  co.device = o.device;  // Program::compile says when a device is missing or not built in
  co.threads = o.threads;
  co.precision = precision;
  impl->programs = std::make_unique<ProgramCache>(co);
  // Build one program now so that missing or misshapen tensors are reported at load.
  DecoderRunner r(std::move(impl));
  r.impl_->cache = r.new_cache();
  nn::DecoderGraphOptions go{1, max_seq, o.kv_type, true};
  ir::Graph decode_graph =
      nn::build_decoder_graph(r.impl_->spec, *r.impl_->weights, go, r.impl_->owned);
  if (o.device.kind == Device::Kind::Cuda)  // before compiling uploads the weights
    check_device_memory(decode_graph, spec, r.impl_->opt, precision);
  Program& decode = r.impl_->programs->get("T=1:all=1", [&] { return std::move(decode_graph); });
  release_free_heap();
  auto unused = r.impl_->weights->unused();
  if (!r.impl_->spec.rope_scaling.freq_factors.empty())  // read by the family's from_gguf
    unused.erase(std::remove(unused.begin(), unused.end(), "rope_freqs.weight"), unused.end());
  if (!unused.empty())
    log_warn("{} tensor(s) in the checkpoint are not used by {}: {}{}", unused.size(),
             family_->name,
             fmt::join(unused.begin(), unused.begin() + std::min<size_t>(unused.size(), 5), ", "),
             unused.size() > 5 ? ", ..." : "");
  if (o.verbose)
    log_info(
        "loaded {} ({} layers, hidden {}, {:.1f} MiB of weights, KV cache {:.1f} MiB, decode "
        "program {} steps with a {:.1f} KiB activation arena) in {:.0f} ms",
        files.files.front(), spec.layers, spec.hidden, weight_bytes / double(1 << 20),
        double(r.impl_->cache.bytes()) / double(1 << 20), decode.step_count(),
        double(decode.arena_bytes()) / 1024.0,
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  return r;
}

const nn::DecoderSpec& DecoderRunner::spec() const {
  return impl_->spec;
}
int64_t DecoderRunner::prefill_chunk() const {
  return impl_->opt.prefill_chunk > 0 ? impl_->opt.prefill_chunk : kDefaultPrefillChunk;
}
const text::Tokenizer* DecoderRunner::tokenizer() const {
  return impl_->tokenizer ? &*impl_->tokenizer : nullptr;
}
const std::optional<std::string>& DecoderRunner::chat_template() const {
  return impl_->chat_template;
}
const std::vector<int32_t>& DecoderRunner::eos_ids() const {
  return impl_->eos;
}
const SamplingOptions& DecoderRunner::default_sampling() const {
  return impl_->sampling;
}
KvCache& DecoderRunner::cache() {
  return impl_->cache;
}
void DecoderRunner::reset() {
  impl_->cache.clear();
}

std::optional<int32_t> DecoderRunner::bos_for_prompt() const {
  if (impl_->tokenizer && impl_->tokenizer->add_bos()) return impl_->tokenizer->bos_id();
  return std::nullopt;
}

KvCache DecoderRunner::new_cache() const {
  const auto& s = impl_->spec;
  return KvCache(s.layers, s.kv_heads, impl_->opt.max_seq, s.head_dim, impl_->opt.kv_type);
}

Tensor DecoderRunner::forward(std::span<const int32_t> ids, KvCache& cache, bool all_logits) {
  RLX_CHECK(!ids.empty(), "forward of no tokens");
  RLX_CHECK(cache.capacity() == impl_->opt.max_seq,
            "KV cache capacity {} does not match the runner's max_seq {}", cache.capacity(),
            impl_->opt.max_seq);
  RLX_CHECK(cache.size() + int64_t(ids.size()) <= cache.capacity(),
            "context full: {} cached + {} new tokens exceed max_seq {}", cache.size(), ids.size(),
            cache.capacity());
  const int64_t V = impl_->spec.vocab;
  const int64_t chunk = prefill_chunk();
  std::vector<Tensor> parts;
  for (size_t start = 0; start < ids.size(); start += size_t(chunk)) {
    const int64_t n = std::min<int64_t>(chunk, int64_t(ids.size() - start));
    const bool last_chunk = start + size_t(n) == ids.size();
    const bool all = all_logits;
    nn::DecoderGraphOptions go{n, impl_->opt.max_seq, impl_->opt.kv_type, all};
    Program& prog = impl_->programs->get(fmt::format("T={}:all={}", n, all ? 1 : 0), [&] {
      return nn::build_decoder_graph(impl_->spec, *impl_->weights, go, impl_->owned);
    });
    Tensor tid = Tensor::empty(DType::I32, {1, n}), pos = Tensor::empty(DType::I32, {n}),
           kv_pos = Tensor::empty(DType::I32, {1});
    const int64_t p0 = cache.size();
    for (int64_t i = 0; i < n; ++i) {
      tid.ptr<int32_t>()[i] = ids[start + size_t(i)];
      pos.ptr<int32_t>()[i] = int32_t(p0 + i);
    }
    kv_pos.ptr<int32_t>()[0] = int32_t(p0);
    auto out = prog.run({{"ids", tid.view()}, {"pos", pos.view()}, {"kv_pos", kv_pos.view()}},
                        cache.bindings());
    cache.append(std::vector<int32_t>(ids.begin() + long(start), ids.begin() + long(start) + n));
    if (all || last_chunk) parts.push_back(out.at("logits"));
  }
  if (parts.size() == 1) return parts[0];
  int64_t rows = 0;
  for (auto& p : parts) rows += p.shape()[0];
  Tensor all = Tensor::empty(DType::F32, {rows, V});
  int64_t at = 0;
  for (auto& p : parts) {
    std::copy(p.ptr<float>(), p.ptr<float>() + p.numel(), all.ptr<float>() + at * V);
    at += p.shape()[0];
  }
  return all;
}

Tensor DecoderRunner::predict_logits(std::span<const int32_t> ids) {
  KvCache c = new_cache();
  return forward(ids, c, true);
}

GenerateResult DecoderRunner::generate_ids(const std::vector<int32_t>& prompt,
                                           const GenerateOptions& opt,
                                           const TokenCallback& on_token, KvCache& cache) {
  RLX_CHECK(!prompt.empty(), "empty prompt");
  GenerateResult r;
  r.prompt_tokens = int64_t(prompt.size());
  // Reuse the cached prefix (a chat re-sends the whole conversation); keep at least one token
  // to run so there are logits to sample from.
  size_t common = 0;
  const auto& have = cache.tokens();
  while (common < have.size() && common < prompt.size() && have[common] == prompt[common]) ++common;
  if (common == prompt.size()) --common;
  cache.truncate(int64_t(common));
  r.prefilled_tokens = int64_t(prompt.size() - common);

  Sampler sampler(opt.sampling.value_or(impl_->sampling));
  std::optional<text::StreamDecoder> dec;
  if (impl_->tokenizer) dec.emplace(*impl_->tokenizer, true);
  std::vector<int32_t> history = prompt;
  auto t0 = std::chrono::steady_clock::now();
  Tensor logits = forward(std::span(prompt).subspan(common), cache, false);
  auto t1 = std::chrono::steady_clock::now();
  r.prefill_seconds = std::chrono::duration<double>(t1 - t0).count();
  r.stop_reason = "length";
  const int64_t V = impl_->spec.vocab;
  for (int i = 0; i < opt.max_tokens; ++i) {
    int32_t tok = sampler.sample(std::span<const float>(logits.ptr<float>(), size_t(V)), history);
    if (std::find(impl_->eos.begin(), impl_->eos.end(), tok) != impl_->eos.end()) {
      r.stop_reason = "eos";
      break;
    }
    r.tokens.push_back(tok);
    history.push_back(tok);
    std::string piece = dec ? dec->feed(tok) : "";
    r.text += piece;
    bool stop_hit = false;
    for (auto& s : opt.stop)
      if (!s.empty() && r.text.size() >= s.size() &&
          r.text.find(s, r.text.size() - std::min(r.text.size(), s.size() + piece.size())) !=
              std::string::npos)
        stop_hit = true;
    if (on_token && !on_token(tok, piece)) {
      r.stop_reason = "cancelled";
      break;
    }
    if (stop_hit) {
      r.stop_reason = "stop";
      break;
    }
    if (i + 1 == opt.max_tokens) break;
    if (cache.size() + 1 > cache.capacity()) {
      r.stop_reason = "context";
      log_warn("context full ({} tokens): generation stopped", cache.capacity());
      break;
    }
    int32_t one[1] = {tok};
    logits = forward(one, cache, false);
  }
  if (dec) {
    std::string rest = dec->flush();
    r.text += rest;
    if (on_token && !rest.empty()) on_token(-1, rest);
  }
  r.decode_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
  return r;
}

GenerateResult DecoderRunner::generate(const std::string& prompt, const GenerateOptions& opt,
                                       const TokenCallback& on_token) {
  RLX_CHECK(impl_->tokenizer.has_value(),
            "this checkpoint has no tokenizer; pass token ids or --tokenizer");
  std::vector<int32_t> ids;
  if (auto bos = bos_for_prompt()) ids.push_back(*bos);
  auto enc = impl_->tokenizer->encode(prompt);
  ids.insert(ids.end(), enc.begin(), enc.end());
  return generate_ids(ids, opt, on_token, impl_->cache);
}

}  // namespace rlx::models
