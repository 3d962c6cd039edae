// rlx bench: prefill (pp) and decode (tg) throughput like llama-bench, plus load time, time to
// first token and peak RSS. Random token ids (fixed seed) make runs independent of text.
#include <sys/resource.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <random>
#include <sstream>

#include <nlohmann/json.hpp>

#include "commands.h"
#include "rlx/core/error.h"
#include "rlx/core/log.h"
#include "rlx/core/thread_pool.h"
#include "rlx/models/families.h"

namespace rlx::cli {
namespace {

using Clock = std::chrono::steady_clock;

struct BenchFlags {
  models::RunnerOptions runner;
  std::string pp = "512", tg = "128", family = "auto", kv_type = "f16", device = "cpu";
  int reps = 5;
  bool json = false;
};

std::vector<int> parse_list(const std::string& s, const char* flag) {
  std::vector<int> out;
  std::stringstream ss(s);
  std::string t;
  while (std::getline(ss, t, ',')) {
    RLX_CHECK(!t.empty() && t.find_first_not_of("0123456789") == std::string::npos && t.size() < 7,
              "{}: '{}' is not a token count", flag, t);
    if (int n = std::stoi(t); n > 0) out.push_back(n);  // 0 skips the test, as in llama-bench
  }
  return out;
}

struct Stat {
  double mean = 0, sd = 0;
};
Stat stats(const std::vector<double>& v) {
  Stat s;
  for (double x : v) s.mean += x / double(v.size());
  for (double x : v) s.sd += (x - s.mean) * (x - s.mean);
  s.sd = v.size() > 1 ? std::sqrt(s.sd / double(v.size() - 1)) : 0;
  return s;
}

double peak_rss_mib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_maxrss) / 1024.0;
}

int run_bench(BenchFlags& f) {
  auto pps = parse_list(f.pp, "-p"), tgs = parse_list(f.tg, "-n");
  RLX_CHECK(f.reps >= 1, "-r must be >= 1");
  RLX_CHECK(f.kv_type == "f32" || f.kv_type == "f16", "--kv-type must be f32 or f16");
  f.runner.kv_type = f.kv_type == "f16" ? DType::F16 : DType::F32;
  f.runner.device = Device::parse(f.device);
  int need = 1;
  for (int p : pps) need = std::max(need, p + 1);
  for (int n : tgs) need = std::max(need, n + 1);
  if (f.runner.max_seq == 0) f.runner.max_seq = need;
  RLX_CHECK(f.runner.max_seq >= need, "--max-seq {} is too small for these tests (need {})",
            f.runner.max_seq, need);
  f.runner.verbose = false;
  const int threads = f.runner.threads > 0 ? f.runner.threads : physical_core_count();
  auto t0 = Clock::now();
  const auto& fam = models::decoder_family_for(f.family, f.runner.weights, f.runner.prefer);
  models::DecoderRunner r = models::DecoderRunner::Builder(fam).options(f.runner).build();
  const double load_s = std::chrono::duration<double>(Clock::now() - t0).count();
  std::mt19937 rng(42);
  std::uniform_int_distribution<int32_t> tok(0, int32_t(r.spec().vocab - 1));
  auto random_ids = [&](int n) {
    std::vector<int32_t> ids(static_cast<size_t>(n));
    for (auto& x : ids) x = tok(rng);
    return ids;
  };
  KvCache cache = r.new_cache();
  {  // warm-up: touch the weights once and build the programs the first pp repetition would
     // (one full prefill chunk), so that no repetition pays for compiling
    int n = std::min(8, need - 1);
    for (int p : pps) n = std::max<int>(n, int(std::min<int64_t>(p, r.prefill_chunk())));
    auto w = random_ids(n);
    r.forward(w, cache, false);
    cache.clear();
  }
  nlohmann::ordered_json results = nlohmann::ordered_json::array();
  std::vector<double> ttft;
  auto report = [&](const std::string& test, int n, const std::vector<double>& secs) {
    std::vector<double> tps;
    for (double s : secs) tps.push_back(double(n) / s);
    Stat s = stats(tps);
    if (f.json)
      results.push_back({{"test", test},
                         {"n_tokens", n},
                         {"tokens_per_s", s.mean},
                         {"stddev", s.sd},
                         {"samples_s", secs}});
    else
      std::printf("| %-10s | %-6s | %9d | %8.2f ± %6.2f |\n", fam.name.c_str(), test.c_str(),
                  threads, s.mean, s.sd);
  };
  if (!f.json) {
    std::printf("| model      | test   |   threads |         t/s        |\n");
    std::printf("| ---------- | ------ | --------: | -----------------: |\n");
  }
  for (int p : pps) {
    std::vector<double> secs;
    for (int i = 0; i < f.reps; ++i) {
      cache.clear();
      auto ids = random_ids(p);
      auto a = Clock::now();
      r.forward(ids, cache, false);
      secs.push_back(std::chrono::duration<double>(Clock::now() - a).count());
    }
    report("pp" + std::to_string(p), p, secs);
    ttft.push_back(stats(secs).mean);
  }
  for (int n : tgs) {
    std::vector<double> secs;
    for (int i = 0; i < f.reps; ++i) {
      cache.clear();
      int32_t one[1] = {tok(rng)};
      r.forward(one, cache, false);  // the first token's prefill is not part of tg (as llama-bench)
      auto a = Clock::now();
      for (int k = 0; k < n; ++k) {
        one[0] = tok(rng);
        r.forward(one, cache, false);
      }
      secs.push_back(std::chrono::duration<double>(Clock::now() - a).count());
    }
    report("tg" + std::to_string(n), n, secs);
  }
  const double rss = peak_rss_mib();
  // The memory target: the mapped file plus the KV cache the tests need, plus 15%.
  std::error_code ec;
  const auto file_bytes = std::filesystem::is_regular_file(f.runner.weights, ec)
                              ? std::filesystem::file_size(f.runner.weights, ec)
                              : 0;
  const double file_mib = double(file_bytes) / double(1 << 20);
  const double kv_mib = double(cache.bytes()) / double(1 << 20);
  const double rss_budget = (file_mib + kv_mib) * 1.15;
  if (f.json) {
    nlohmann::ordered_json out;
    out["model"] = f.runner.weights;
    out["family"] = fam.name;
    out["threads"] = threads;
    out["device"] = f.runner.device.str();
    out["kv_type"] = f.kv_type;
    out["ubatch"] = r.prefill_chunk();
    out["load_s"] = load_s;
    out["ttft_s"] =
        ttft.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(ttft.front());
    out["peak_rss_mib"] = rss;
    out["file_mib"] = file_mib;
    out["kv_mib"] = kv_mib;
    out["rss_budget_mib"] = rss_budget;
    out["results"] = results;
    std::printf("%s\n", out.dump(2).c_str());
  } else {
    std::printf(
        "\nload %.3f s, time to first token (pp%d) %.3f s, peak RSS %.1f MiB (file %.1f + KV "
        "%.1f MiB, +15%%: %.1f), kv %s, threads %d, device %s\n",
        load_s, pps.empty() ? 0 : pps.front(), ttft.empty() ? 0.0 : ttft.front(), rss, file_mib,
        kv_mib, rss_budget, f.kv_type.c_str(), threads, f.runner.device.str().c_str());
  }
  return 0;
}

}  // namespace

Runner add_bench(CLI::App& app) {
  auto f = std::make_shared<BenchFlags>();
  auto* cmd = app.add_subcommand("bench", "Measure prefill and decode speed (like llama-bench)");
  cmd->add_option("-m,--weights", f->runner.weights, "Model file or directory")->required();
  cmd->add_option("--family", f->family, "Model family (default: auto)");
  cmd->add_option("-p,--n-prompt", f->pp,
                  "Prompt lengths to test, comma-separated; 0 skips (default 512)");
  cmd->add_option("-n,--n-gen", f->tg,
                  "Generation lengths to test, comma-separated; 0 skips (default 128)");
  cmd->add_option("-r,--repetitions", f->reps, "Repetitions per test (default 5)");
  cmd->add_option("--device", f->device, "cpu, cuda or cuda:N (default cpu)");
  cmd->add_option("--kv-type", f->kv_type, "KV cache type f16 (default, as llama-bench) or f32");
  cmd->add_option("--precision", f->runner.precision,
                  "f32 (default), or f16 / bf16 on CUDA (F32 weight matrices become 16-bit)")
      ->check(CLI::IsMember({"f32", "f16", "bf16"}));
  cmd->add_option("--max-seq", f->runner.max_seq,
                  "KV cache capacity (default: what the tests need)");
  cmd->add_option("--prefer", f->runner.prefer, "Pick the GGUF whose name contains this");
  cmd->add_option("--ubatch", f->runner.prefill_chunk,
                  "Prompt tokens per prefill step (llama.cpp's n_ubatch; default 512)")
      ->check(CLI::Range(1, 8192));
  cmd->add_flag("--json", f->json, "Print one JSON object");
  add_threads_flag(*cmd, f->runner.threads);
  return [f]() { return run_bench(*f); };
}

}  // namespace rlx::cli
