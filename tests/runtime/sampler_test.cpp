// rlx::Sampler (CONVENTIONS.md "Generation"): llama.cpp's order penalties → top-k → top-p →
// min-p → temperature → draw; temperature 0 is greedy; seeded and reproducible; invalid options
// throw rlx::Error.
#include "rlx/runtime/sampler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <vector>

#include "rlx/core/error.h"

namespace rlx {
namespace {

SamplingOptions plain(float temperature, uint64_t seed = 0) {
  SamplingOptions o;
  o.temperature = temperature;
  o.top_k = 0;
  o.top_p = 1.f;
  o.min_p = 0.f;
  o.seed = seed;
  return o;
}

std::vector<int32_t> draws(Sampler& s, const std::vector<float>& logits, int n,
                           const std::vector<int32_t>& history = {}) {
  std::vector<int32_t> out;
  out.reserve(size_t(n));
  for (int i = 0; i < n; ++i) out.push_back(s.sample(logits, history));
  return out;
}

std::vector<double> softmax(const std::vector<float>& l, double temp) {
  double mx = *std::max_element(l.begin(), l.end()), sum = 0;
  std::vector<double> p(l.size());
  for (size_t i = 0; i < l.size(); ++i) sum += p[i] = std::exp((l[i] - mx) / temp);
  for (auto& x : p) x /= sum;
  return p;
}

// 16 distinct logits in a non-sorted order (token 11 is the largest).
const std::vector<float> kLogits = {0.3f, -1.f, 2.f,  1.5f, -0.5f, 0.9f, 1.1f, -2.f,
                                    0.f,  0.7f, 1.8f, 3.f,  -3.f,  0.1f, 2.5f, -0.2f};

TEST(Sampler, GreedyIsArgmax) {
  Sampler s(plain(0.f));
  EXPECT_EQ(s.sample(kLogits, {}), 11);
  // Ties: the first maximum wins (as argmax in the references).
  std::vector<float> tie = {0.f, 5.f, 1.f, 5.f, 5.f};
  EXPECT_EQ(s.sample(tie, {}), 1);
  std::vector<float> all_equal(7, 0.25f);
  EXPECT_EQ(s.sample(all_equal, {}), 0);
  // Greedy ignores the truncation options and the seed.
  SamplingOptions o = plain(0.f, 123);
  o.top_k = 3;
  o.top_p = 0.5f;
  o.min_p = 0.2f;
  Sampler g(o);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(g.sample(kLogits, {}), 11);
  // A single logit.
  std::vector<float> one = {-7.f};
  EXPECT_EQ(s.sample(one, {}), 0);
}

TEST(Sampler, EmptyLogitsThrow) {
  Sampler s(plain(0.f));
  std::vector<float> none;
  EXPECT_THROW(s.sample(none, {}), Error);
  Sampler t(plain(1.f));
  EXPECT_THROW(t.sample(none, {}), Error);
}

TEST(Sampler, SameSeedSameSequenceDifferentSeedsDiffer) {
  // Flat-ish distribution so sequences carry a lot of entropy.
  std::vector<float> flat(32);
  for (size_t i = 0; i < flat.size(); ++i) flat[i] = 0.05f * float(i % 5);
  Sampler a(plain(1.f, 42)), b(plain(1.f, 42)), c(plain(1.f, 43));
  auto sa = draws(a, flat, 200), sb = draws(b, flat, 200), sc = draws(c, flat, 200);
  EXPECT_EQ(sa, sb);
  int same = 0;
  for (size_t i = 0; i < sa.size(); ++i) same += sa[i] == sc[i];
  // Independent draws agree with probability ~1/32 each: ~6 of 200 expected.
  EXPECT_LT(same, 40);
  EXPECT_NE(sa, sc);
  // The draws actually vary.
  EXPECT_GT(std::set<int32_t>(sa.begin(), sa.end()).size(), 10u);
}

TEST(Sampler, TopK1IsGreedyAtAnyTemperature) {
  for (float t : {0.1f, 1.f, 5.f, 100.f}) {
    SamplingOptions o = plain(t, 7);
    o.top_k = 1;
    Sampler s(o);
    for (int i = 0; i < 200; ++i) ASSERT_EQ(s.sample(kLogits, {}), 11) << "temperature " << t;
  }
}

TEST(Sampler, TopKKeepsOnlyTheKLargest) {
  SamplingOptions o = plain(10.f, 3);  // hot, so every kept token is drawn
  o.top_k = 4;
  Sampler s(o);
  const std::set<int32_t> kept = {11, 14, 2, 10};  // logits 3, 2.5, 2, 1.8
  std::set<int32_t> seen;
  for (int32_t t : draws(s, kLogits, 2000)) {
    ASSERT_TRUE(kept.count(t)) << "token " << t << " is outside the top-4";
    seen.insert(t);
  }
  EXPECT_EQ(seen, kept);
}

TEST(Sampler, TopPCutsTheTail) {
  // Probabilities at T=1: 0.5, 0.25, 0.125, 0.0625, ... (logits are log2 steps).
  std::vector<float> l;
  for (int i = 0; i < 8; ++i) l.push_back(-float(i) * std::log(2.f));
  std::reverse(l.begin(), l.end());  // token 7 is the most likely, token 0 the least
  // Cumulative: 0.502, 0.753, 0.878, 0.941 ... top_p 0.8 keeps the first 3 (7, 6, 5).
  SamplingOptions o = plain(1.f, 11);
  o.top_p = 0.8f;
  Sampler s(o);
  std::set<int32_t> seen;
  for (int32_t t : draws(s, l, 2000)) {
    ASSERT_TRUE(t == 7 || t == 6 || t == 5) << "token " << t << " is outside the top-p set";
    seen.insert(t);
  }
  EXPECT_EQ(seen.size(), 3u);
  // A tiny top_p keeps at least the best token.
  o.top_p = 1e-6f;
  Sampler one(o);
  for (int32_t t : draws(one, l, 200)) ASSERT_EQ(t, 7);
}

TEST(Sampler, TopPUsesTemperatureOneProbabilities) {
  // llama.cpp's cuts look at the T=1 distribution; a high temperature must not widen the set.
  std::vector<float> l = {10.f, 9.f, 0.f, 0.f, 0.f};  // p ≈ 0.731, 0.269, ~3e-5 ...
  SamplingOptions o = plain(50.f, 5);
  o.top_p = 0.9f;
  Sampler s(o);
  for (int32_t t : draws(s, l, 2000)) ASSERT_TRUE(t == 0 || t == 1) << t;
}

TEST(Sampler, MinPCutsRelativeToTheBest) {
  // p relative to the best: exp(l - 3): token 11 1, 14 0.61, 2 0.37, 10 0.30, 3 0.22, 6 0.15, ...
  SamplingOptions o = plain(5.f, 9);
  o.min_p = 0.2f;
  Sampler s(o);
  const std::set<int32_t> kept = {11, 14, 2, 10, 3};
  std::set<int32_t> seen;
  for (int32_t t : draws(s, kLogits, 2000)) {
    ASSERT_TRUE(kept.count(t)) << "token " << t << " is below min-p";
    seen.insert(t);
  }
  EXPECT_EQ(seen, kept);
  // min_p 1 keeps only the maximum.
  o.min_p = 1.f;
  Sampler best(o);
  for (int32_t t : draws(best, kLogits, 200)) ASSERT_EQ(t, 11);
}

TEST(Sampler, CutsCompose) {
  // top-k 6 then top-p then min-p: the kept set is the intersection, never wider than any.
  SamplingOptions o = plain(3.f, 21);
  o.top_k = 6;
  o.top_p = 0.95f;
  o.min_p = 0.3f;
  Sampler s(o);
  const std::set<int32_t> allowed = {11, 14, 2, 10};  // min-p 0.3 of the best leaves these
  for (int32_t t : draws(s, kLogits, 2000)) ASSERT_TRUE(allowed.count(t)) << t;
}

double chi_square(const std::vector<int32_t>& samples, const std::vector<double>& p) {
  std::vector<double> count(p.size(), 0);
  for (int32_t t : samples) count[size_t(t)] += 1;
  double n = double(samples.size()), chi = 0;
  for (size_t i = 0; i < p.size(); ++i) {
    double e = n * p[i];
    if (e > 0) chi += (count[i] - e) * (count[i] - e) / e;
  }
  return chi;
}

TEST(Sampler, TemperatureMatchesSoftmax) {
  const std::vector<float> l = {1.f, 0.5f, 0.f, -0.5f, 2.f, 1.5f};
  const int n = 20000;
  for (double temp : {0.5, 1.0, 2.0}) {
    SCOPED_TRACE(temp);
    Sampler s(plain(float(temp), 1234));
    auto samples = draws(s, l, n);
    auto p = softmax(l, temp);
    double chi = chi_square(samples, p);
    // 5 degrees of freedom: the 99.99th percentile is ~25.7; allow a loose 40.
    EXPECT_LT(chi, 40.0);
    // And a clearly different temperature is rejected by the same statistic.
    double wrong = temp * 2;
    EXPECT_GT(chi_square(samples, softmax(l, wrong)), 100.0) << "temperature has no visible effect";
  }
}

TEST(Sampler, TemperatureAppliesAfterTruncation) {
  // After top-k 2, temperature 1 gives p = softmax([2, 1.5]) over the two kept tokens only.
  const std::vector<float> l = {1.f, 0.5f, 0.f, -0.5f, 2.f, 1.5f};
  SamplingOptions o = plain(1.f, 77);
  o.top_k = 2;
  Sampler s(o);
  auto samples = draws(s, l, 20000);
  int n4 = int(std::count(samples.begin(), samples.end(), 4));
  int n5 = int(std::count(samples.begin(), samples.end(), 5));
  ASSERT_EQ(n4 + n5, 20000);
  double p4 = 1.0 / (1.0 + std::exp(-0.5));  // 0.6225
  EXPECT_NEAR(double(n4) / 20000, p4, 0.02);
}

TEST(Sampler, RepetitionPenaltyDividesPositiveMultipliesNegative) {
  // Token 0 (2.0) beats token 1 (1.5); penalty 2 makes token 0 1.0 < 1.5.
  std::vector<float> l = {2.f, 1.5f, -1.f, -1.2f};
  SamplingOptions o = plain(0.f);
  o.repetition_penalty = 2.f;
  Sampler s(o);
  std::vector<int32_t> hist = {0};
  EXPECT_EQ(s.sample(l, hist), 1);
  // Repeating a token in the history does not compound the repetition penalty (applied once):
  // 2/2 = 1.0 < 1.5 either way, but 1.9/2 = 0.95 > 0.9 must still win over token 1 at 0.9.
  std::vector<float> l2 = {1.9f, 0.9f};
  std::vector<int32_t> hist3 = {0, 0, 0};
  EXPECT_EQ(s.sample(l2, hist3), 0);
  // Negative logits are multiplied: token 2 (-1) becomes -2, below token 3 (-1.2).
  std::vector<float> neg = {-1.f, -1.2f};
  SamplingOptions on = plain(0.f);
  on.repetition_penalty = 2.f;
  Sampler sn(on);
  std::vector<int32_t> h0 = {0};
  EXPECT_EQ(sn.sample(neg, h0), 1);
  // Without history nothing changes.
  EXPECT_EQ(sn.sample(neg, {}), 0);
}

TEST(Sampler, PresenceAndFrequencyPenalties) {
  std::vector<float> l = {2.f, 1.5f, 0.f};
  // Presence: subtracted once per distinct token, however often it occurred.
  {
    SamplingOptions o = plain(0.f);
    o.presence_penalty = 0.6f;  // 2.0 - 0.6 = 1.4 < 1.5
    Sampler s(o);
    std::vector<int32_t> h = {0};
    EXPECT_EQ(s.sample(l, h), 1);
    o.presence_penalty = 0.4f;  // 1.6 > 1.5, even with many occurrences
    Sampler s2(o);
    std::vector<int32_t> many = {0, 0, 0, 0, 0};
    EXPECT_EQ(s2.sample(l, many), 0);
  }
  // Frequency: subtracted once per occurrence.
  {
    SamplingOptions o = plain(0.f);
    o.frequency_penalty = 0.2f;
    Sampler s(o);
    std::vector<int32_t> twice = {0, 0};  // 2.0 - 0.4 = 1.6 > 1.5
    EXPECT_EQ(s.sample(l, twice), 0);
    std::vector<int32_t> thrice = {0, 2, 0, 0};  // 2.0 - 0.6 = 1.4 < 1.5
    EXPECT_EQ(s.sample(l, thrice), 1);
  }
  // A strongly penalized token is no longer sampled at all at normal temperature.
  {
    SamplingOptions o = plain(1.f, 5);
    o.presence_penalty = 50.f;
    Sampler s(o);
    std::vector<int32_t> h = {0};
    for (int32_t t : draws(s, l, 2000, h)) ASSERT_NE(t, 0);
  }
}

TEST(Sampler, PenaltiesLookOnlyAtTheLastN) {
  std::vector<float> l = {2.f, 1.5f, 0.f};
  SamplingOptions o = plain(0.f);
  o.repetition_penalty = 4.f;
  o.penalty_last_n = 2;
  Sampler s(o);
  std::vector<int32_t> old = {0, 2, 2};  // token 0 is outside the window
  EXPECT_EQ(s.sample(l, old), 0);
  std::vector<int32_t> recent = {2, 2, 0};
  EXPECT_EQ(s.sample(l, recent), 1);
  // penalty_last_n 0: penalties off.
  o.penalty_last_n = 0;
  Sampler off(o);
  EXPECT_EQ(off.sample(l, recent), 0);
  // Ids outside the vocabulary in the history are ignored, not a crash.
  std::vector<int32_t> weird = {-1, 100000};
  EXPECT_EQ(s.sample(l, weird), 0);
}

TEST(Sampler, PenaltiesApplyBeforeTruncation) {
  // Token 0 would be the sole top-1 survivor, but the penalty runs first so token 1 is kept.
  std::vector<float> l = {2.f, 1.5f, 0.f};
  SamplingOptions o = plain(1.f, 8);
  o.top_k = 1;
  o.repetition_penalty = 4.f;
  Sampler s(o);
  std::vector<int32_t> h = {0};
  for (int32_t t : draws(s, l, 200, h)) ASSERT_EQ(t, 1);
}

TEST(Sampler, InvalidOptionsThrow) {
  auto with = [](auto f) {
    SamplingOptions o;
    f(o);
    return o;
  };
  EXPECT_THROW(Sampler(with([](auto& o) { o.temperature = -0.1f; })), Error);
  EXPECT_THROW(Sampler(with([](auto& o) { o.top_p = 0.f; })), Error);
  EXPECT_THROW(Sampler(with([](auto& o) { o.top_p = -1.f; })), Error);
  EXPECT_THROW(Sampler(with([](auto& o) { o.min_p = -0.1f; })), Error);
  EXPECT_THROW(Sampler(with([](auto& o) { o.min_p = 1.5f; })), Error);
  EXPECT_THROW(Sampler(with([](auto& o) { o.repetition_penalty = 0.f; })), Error);
  EXPECT_THROW(Sampler(with([](auto& o) { o.repetition_penalty = -1.f; })), Error);
  EXPECT_THROW(Sampler(with([](auto& o) { o.temperature = std::nanf(""); })), Error);
  // Valid edge values.
  EXPECT_NO_THROW(Sampler(with([](auto& o) { o.temperature = 0.f; })));
  EXPECT_NO_THROW(Sampler(with([](auto& o) { o.top_p = 1.f; })));
  EXPECT_NO_THROW(Sampler(with([](auto& o) { o.min_p = 0.f; })));
  EXPECT_NO_THROW(Sampler(with([](auto& o) { o.min_p = 1.f; })));
  EXPECT_NO_THROW(Sampler(with([](auto& o) { o.top_k = -1; })));
}

TEST(Sampler, DefaultsAreUsable) {
  Sampler s(SamplingOptions{});
  EXPECT_FLOAT_EQ(s.options().temperature, 0.8f);
  for (int32_t t : draws(s, kLogits, 500)) ASSERT_TRUE(t >= 0 && t < int32_t(kLogits.size()));
}

}  // namespace
}  // namespace rlx
