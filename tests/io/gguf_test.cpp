// GGUF: writer → reader round trips (metadata of every type, plain and quantized tensors,
// alignment), the shared tiny-qwen3 fixtures against expected.json, and llama.cpp vocab files.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <numeric>
#include <string>
#include <vector>

#include "io_test_util.h"
#include "rlx/core/error.h"
#include "rlx/io/gguf.h"
#include "support/test_data.h"

namespace {

namespace fs = std::filesystem;
using rlx::DType;
using rlx::Shape;
using rlx::io::GgufFile;
using rlx::io::GgufType;
using rlx::io::GgufValue;
using rlx::io::GgufWriter;
using rlx::iotest::TempDir;

GgufValue scalar_int(GgufType t, int64_t v) {
  GgufValue g;
  g.type = t;
  g.i = v;
  return g;
}

GgufValue scalar_float(GgufType t, double v) {
  GgufValue g;
  g.type = t;
  g.f = v;
  return g;
}

std::vector<uint8_t> pattern_bytes(size_t n, uint8_t seed) {
  std::vector<uint8_t> b(n);
  for (size_t i = 0; i < n; ++i) b[i] = uint8_t(seed + i * 31 + (i >> 8));
  return b;
}

TEST(GgufRoundTrip, MetadataOfEveryType) {
  TempDir dir;
  GgufWriter w;
  w.set_string("general.architecture", "testarch");
  w.set_string("s.empty", "");
  w.set_string("s.utf8", "h\xc3\xa9llo \xe2\x9c\x93\n\t\"");
  w.set_u32("u32", 4000000000u);
  w.set_i32("i32", -123456789);
  w.set_u64("u64", 0xfedcba9876543210ull);
  w.set_f32("f32", 0.25f);
  w.set_bool("b.true", true);
  w.set_bool("b.false", false);
  w.set("u8", scalar_int(GgufType::U8, 255));
  w.set("i8", scalar_int(GgufType::I8, -128));
  w.set("u16", scalar_int(GgufType::U16, 65535));
  w.set("i16", scalar_int(GgufType::I16, -32768));
  w.set("i64", scalar_int(GgufType::I64, INT64_MIN + 1));
  w.set("f64", scalar_float(GgufType::F64, 3.141592653589793));
  w.set_string_array("a.str", {"a", "", "long string with spaces"});
  w.set_string_array("a.str.empty", {});
  w.set_i32_array("a.i32", {1, -2, 2147483647, -2147483647 - 1});
  w.set_f32_array("a.f32", {1.5f, -0.0f, 1e30f});
  {
    GgufValue a;
    a.type = GgufType::Array;
    a.elem_type = GgufType::Bool;
    a.ints = {1, 0, 1};
    w.set("a.bool", a);
  }
  {
    GgufValue a;
    a.type = GgufType::Array;
    a.elem_type = GgufType::U8;
    a.ints = {0, 7, 255};
    w.set("a.u8", a);
  }
  {
    GgufValue a;
    a.type = GgufType::Array;
    a.elem_type = GgufType::F64;
    a.floats = {1e-300, -2.5};
    w.set("a.f64", a);
  }
  {
    // [[1, 2], [], [[ "x" ]]] -- arrays of arrays, one of them nesting again.
    GgufValue inner1;
    inner1.type = GgufType::Array;
    inner1.elem_type = GgufType::I64;
    inner1.ints = {1, 2};
    GgufValue inner2;
    inner2.type = GgufType::Array;
    inner2.elem_type = GgufType::U16;
    GgufValue deepest;
    deepest.type = GgufType::Array;
    deepest.elem_type = GgufType::String;
    deepest.strings = {"x"};
    GgufValue inner3;
    inner3.type = GgufType::Array;
    inner3.elem_type = GgufType::Array;
    inner3.arrays = {deepest};
    GgufValue outer;
    outer.type = GgufType::Array;
    outer.elem_type = GgufType::Array;
    outer.arrays = {inner1, inner2, inner3};
    w.set("a.nested", outer);
  }
  w.set_u32("overwritten", 1);
  w.set_u32("overwritten", 2);  // set() replaces, keeping the first position
  std::string path = dir.file("meta.gguf");
  w.write(path);

  GgufFile g = GgufFile::open(path);
  EXPECT_EQ(g.version(), 3u);
  EXPECT_EQ(g.alignment(), 32u);
  EXPECT_TRUE(g.tensors().empty());
  EXPECT_EQ(g.architecture(), "testarch");
  EXPECT_EQ(g.get_string("s.empty"), "");
  EXPECT_EQ(g.get_string("s.utf8"), "h\xc3\xa9llo \xe2\x9c\x93\n\t\"");
  EXPECT_EQ(g.get_int("u32"), 4000000000ll);
  EXPECT_EQ(g.get_int("i32"), -123456789);
  EXPECT_EQ(uint64_t(g.get_int("u64")), 0xfedcba9876543210ull);
  EXPECT_EQ(g.find("u64")->type, GgufType::U64);
  EXPECT_EQ(g.get_float("f32"), 0.25);
  EXPECT_EQ(g.find("f32")->type, GgufType::F32);
  EXPECT_TRUE(g.get_bool("b.true"));
  EXPECT_FALSE(g.get_bool("b.false"));
  EXPECT_EQ(g.get_int("u8"), 255);
  EXPECT_EQ(g.get_int("i8"), -128);
  EXPECT_EQ(g.get_int("u16"), 65535);
  EXPECT_EQ(g.get_int("i16"), -32768);
  EXPECT_EQ(g.get_int("i64"), INT64_MIN + 1);
  EXPECT_EQ(g.get_float("f64"), 3.141592653589793);
  EXPECT_EQ(g.get_float("i32"), -123456789.0);  // get_float accepts integers
  EXPECT_EQ(g.get_string_array("a.str"),
            (std::vector<std::string>{"a", "", "long string with spaces"}));
  EXPECT_TRUE(g.get_string_array("a.str.empty").empty());
  EXPECT_EQ(g.get_int_array("a.i32"), (std::vector<int64_t>{1, -2, 2147483647, -2147483648ll}));
  EXPECT_EQ(g.get_int_array("a.bool"), (std::vector<int64_t>{1, 0, 1}));
  EXPECT_EQ(g.get_int_array("a.u8"), (std::vector<int64_t>{0, 7, 255}));
  auto f32 = g.get_float_array("a.f32");
  ASSERT_EQ(f32.size(), 3u);
  EXPECT_EQ(f32[0], 1.5);
  EXPECT_TRUE(std::signbit(f32[1]));
  EXPECT_EQ(f32[2], double(1e30f));
  EXPECT_EQ(g.get_float_array("a.f64"), (std::vector<double>{1e-300, -2.5}));

  const GgufValue* n = g.find("a.nested");
  ASSERT_NE(n, nullptr);
  EXPECT_EQ(n->elem_type, GgufType::Array);
  ASSERT_EQ(n->arrays.size(), 3u);
  EXPECT_EQ(n->array_size(), 3u);
  EXPECT_EQ(n->arrays[0].elem_type, GgufType::I64);
  EXPECT_EQ(n->arrays[0].ints, (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(n->arrays[1].elem_type, GgufType::U16);
  EXPECT_EQ(n->arrays[1].array_size(), 0u);
  ASSERT_EQ(n->arrays[2].arrays.size(), 1u);
  EXPECT_EQ(n->arrays[2].arrays[0].strings, (std::vector<std::string>{"x"}));

  EXPECT_EQ(g.get_int("overwritten"), 2);
  // File order is insertion order.
  ASSERT_GE(g.metadata().size(), 3u);
  EXPECT_EQ(g.metadata()[0].first, "general.architecture");
  EXPECT_EQ(g.metadata()[1].first, "s.empty");

  // Optional getters and typed-getter errors name the key.
  EXPECT_EQ(g.string_or("nope"), std::nullopt);
  EXPECT_EQ(g.int_or("u8"), 255);
  EXPECT_EQ(g.float_or("f32"), 0.25);
  rlx::iotest::expect_error([&] { g.get_string("missing.key"); }, {"missing.key", path});
  rlx::iotest::expect_error([&] { g.get_int("s.utf8"); }, {"s.utf8", "string"});
  rlx::iotest::expect_error([&] { g.get_bool("u8"); }, {"u8"});
  rlx::iotest::expect_error([&] { g.get_string_array("a.i32"); }, {"a.i32"});
  rlx::iotest::expect_error([&] { g.get_float_array("a.str"); }, {"a.str"});
  rlx::iotest::expect_error([&] { g.get_float("s.utf8"); }, {"s.utf8"});
}

struct TensorCase {
  std::string name;
  DType dtype;
  Shape shape;
  int64_t bytes;  // hand-computed
};

void round_trip_tensors(uint32_t alignment) {
  TempDir dir;
  std::vector<TensorCase> cases = {
      {"f32", DType::F32, {3, 5}, 60},
      {"f16", DType::F16, {2, 3, 4}, 48},
      {"bf16", DType::BF16, {7}, 14},
      {"f64", DType::F64, {2, 1}, 16},
      {"i8", DType::I8, {9}, 9},
      {"i16", DType::I16, {3}, 6},
      {"i32", DType::I32, {1, 1, 1, 5}, 20},
      {"i64", DType::I64, {2}, 16},
      {"scalar", DType::F32, {}, 4},
      {"q4_0", DType::Q4_0, {2, 64}, 2 * 2 * 18},
      {"q4_1", DType::Q4_1, {1, 32}, 20},
      {"q5_0", DType::Q5_0, {32}, 22},
      {"q5_1", DType::Q5_1, {32}, 24},
      {"q8_0", DType::Q8_0, {3, 32}, 3 * 34},
      {"q2_k", DType::Q2_K, {256}, 84},
      {"q3_k", DType::Q3_K, {256}, 110},
      {"q4_k", DType::Q4_K, {2, 512}, 4 * 144},
      {"q5_k", DType::Q5_K, {256}, 176},
      {"q6_k", DType::Q6_K, {256}, 210},
      {"q8_k", DType::Q8_K, {256}, 292},
      {"iq4_nl", DType::IQ4_NL, {32}, 18},
      {"iq4_xs", DType::IQ4_XS, {256}, 136},
  };
  std::vector<std::vector<uint8_t>> data;
  GgufWriter w(alignment);
  w.set_string("general.architecture", "t");
  for (size_t i = 0; i < cases.size(); ++i) {
    ASSERT_EQ(rlx::dtype_bytes(cases[i].dtype, cases[i].shape.numel()), cases[i].bytes)
        << cases[i].name;
    data.push_back(pattern_bytes(size_t(cases[i].bytes), uint8_t(i)));
  }
  for (size_t i = 0; i < cases.size(); ++i)
    w.add_tensor(cases[i].name, cases[i].dtype, cases[i].shape, data[i].data());
  std::string path = dir.file("tensors.gguf");
  w.write(path);

  GgufFile g = GgufFile::open(path);
  EXPECT_EQ(g.alignment(), alignment);
  EXPECT_EQ(g.data_offset() % alignment, 0u);
  if (alignment != 32) {
    EXPECT_EQ(g.get_int("general.alignment"), alignment);
  }
  ASSERT_EQ(g.tensors().size(), cases.size());
  for (size_t i = 0; i < cases.size(); ++i) {
    const auto& t = g.tensors()[i];
    SCOPED_TRACE(cases[i].name);
    EXPECT_EQ(t.name, cases[i].name);
    EXPECT_EQ(t.dtype, cases[i].dtype);
    EXPECT_EQ(t.shape, cases[i].shape) << t.shape.str();
    EXPECT_EQ(t.bytes, uint64_t(cases[i].bytes));
    EXPECT_EQ(t.offset % alignment, 0u);
    EXPECT_EQ((g.data_offset() + t.offset) % alignment, 0u);
    ASSERT_EQ(g.find_tensor(cases[i].name), &t);
    rlx::TensorView v = g.tensor_view(t);
    EXPECT_EQ(v.shape, cases[i].shape);
    EXPECT_EQ(v.dtype, cases[i].dtype);
    EXPECT_EQ(std::memcmp(v.data, data[i].data(), data[i].size()), 0);
  }
  EXPECT_EQ(g.find_tensor("nope"), nullptr);
}

TEST(GgufRoundTrip, TensorsDefaultAlignment) {
  round_trip_tensors(32);
}
TEST(GgufRoundTrip, TensorsAlignment64) {
  round_trip_tensors(64);
}
TEST(GgufRoundTrip, TensorsAlignment8) {
  round_trip_tensors(8);
}

TEST(GgufRoundTrip, ShapeIsReversedOnDisk) {
  // ggml writes ne[] innermost first: a PyTorch [2, 3, 4] tensor has ne = {4, 3, 2}.
  TempDir dir;
  std::vector<float> d(24);
  std::iota(d.begin(), d.end(), 0.0f);
  GgufWriter w;
  w.add_tensor("x", DType::F32, {2, 3, 4}, d.data());
  std::string path = dir.file("x.gguf");
  w.write(path);
  std::vector<uint8_t> bytes = rlx::iotest::read_bytes(path);
  // header: magic 4, version 4, n_tensors 8, n_kv 8 = 24; name len 8 + "x" 1; n_dims 4.
  size_t p = 24 + 8 + 1;
  uint32_t n_dims;
  std::memcpy(&n_dims, &bytes[p], 4);
  ASSERT_EQ(n_dims, 3u);
  uint64_t ne[3];
  std::memcpy(ne, &bytes[p + 4], 24);
  EXPECT_EQ(ne[0], 4u);
  EXPECT_EQ(ne[1], 3u);
  EXPECT_EQ(ne[2], 2u);
  GgufFile g = GgufFile::open(path);
  EXPECT_EQ(g.tensors()[0].shape, (Shape{2, 3, 4}));
  const float* f = static_cast<const float*>(g.tensor_view(g.tensors()[0]).data);
  EXPECT_EQ(f[23], 23.0f);
}

TEST(GgufWriterChecks, RejectsBadTensors) {
  GgufWriter w;
  uint8_t buf[64] = {};
  EXPECT_THROW(w.add_tensor("q", DType::Q4_0, {2, 31}, buf), rlx::Error);  // not whole blocks
  EXPECT_THROW(w.add_tensor("b", DType::Bool, {2}, buf), rlx::Error);      // no ggml id
  w.add_tensor("a", DType::F32, {2}, buf);
  EXPECT_THROW(w.add_tensor("a", DType::F32, {2}, buf), rlx::Error);  // duplicate
}

// ---- shared fixtures ----

std::string gguf_fixture_dir() {
  return rlx::test::shared_fixtures_dir() + "/gguf";
}

nlohmann::json expected_json() {
  std::ifstream f(rlx::test::require_file(gguf_fixture_dir() + "/expected.json"));
  return nlohmann::json::parse(f);
}

TEST(GgufFixtures, EveryFileMatchesExpectedJson) {
  nlohmann::json expected = expected_json();
  ASSERT_GE(expected.size(), 19u);
  size_t checked = 0;
  for (auto& [file, e] : expected.items()) {
    SCOPED_TRACE(file);
    std::string path = rlx::test::require_file(gguf_fixture_dir() + "/" + file);
    GgufFile g = GgufFile::open(path);
    EXPECT_EQ(g.version(), 3u);
    EXPECT_EQ(g.tensors().size(), e["tensors"].get<size_t>());
    std::map<std::string, int> types;
    for (auto& t : g.tensors()) types[rlx::dtype_name(t.dtype)]++;
    EXPECT_EQ(nlohmann::json(types), e["types"]);
    for (auto& t : g.tensors())
      EXPECT_EQ(rlx::dtype_name(t.dtype), e["tensor_types"][t.name].get<std::string>()) << t.name;
    if (e["arch"].is_null()) {
      EXPECT_EQ(g.architecture(), "");
    } else {
      EXPECT_EQ(g.architecture(), e["arch"].get<std::string>());
    }
    if (e["file_type"].is_null()) {
      EXPECT_FALSE(g.has("general.file_type"));
    } else {
      EXPECT_EQ(g.get_int("general.file_type"), e["file_type"].get<int64_t>());
    }
    if (e.contains("split")) {
      EXPECT_EQ(g.get_int("split.no"), e["split"]["no"].get<int64_t>());
      EXPECT_EQ(g.get_int("split.count"), e["split"]["count"].get<int64_t>());
      EXPECT_EQ(g.get_int("split.tensors.count"), e["split"]["tensors_total"].get<int64_t>());
    } else {
      EXPECT_FALSE(g.has("split.count"));
    }
    // Every tensor lies inside the file and is whole blocks.
    for (auto& t : g.tensors()) {
      EXPECT_LE(g.data_offset() + t.offset + t.bytes, g.file()->size()) << t.name;
      EXPECT_EQ(int64_t(t.bytes), rlx::dtype_bytes(t.dtype, t.shape.numel())) << t.name;
    }
    ++checked;
  }
  // Every .gguf in the directory is listed.
  size_t on_disk = 0;
  for (auto& f : fs::directory_iterator(gguf_fixture_dir()))
    if (f.path().extension() == ".gguf") ++on_disk;
  EXPECT_EQ(on_disk, checked);
}

TEST(GgufFixtures, Qwen3MetadataAndShapes) {
  GgufFile g = GgufFile::open(rlx::test::require_file(gguf_fixture_dir() + "/tiny-qwen3-F32.gguf"));
  EXPECT_EQ(g.get_string("general.name"), "tiny-qwen3");
  EXPECT_EQ(g.get_int("qwen3.context_length"), 512);
  EXPECT_EQ(g.get_int("qwen3.embedding_length"), 256);
  EXPECT_EQ(g.get_int("qwen3.block_count"), 2);
  EXPECT_EQ(g.get_int("qwen3.attention.head_count_kv"), 2);
  EXPECT_EQ(g.get_float("qwen3.rope.freq_base"), 1000000.0);
  EXPECT_EQ(g.find("qwen3.rope.freq_base")->type, GgufType::F32);
  EXPECT_NEAR(g.get_float("qwen3.attention.layer_norm_rms_epsilon"), 1e-6, 1e-12);
  EXPECT_EQ(g.get_string("tokenizer.ggml.model"), "gpt2");
  EXPECT_EQ(g.get_string("tokenizer.ggml.pre"), "qwen2");
  EXPECT_EQ(g.get_string_array("tokenizer.ggml.tokens").size(), 1024u);
  EXPECT_EQ(g.get_string_array("tokenizer.ggml.merges").size(), 766u);
  EXPECT_EQ(g.get_int("tokenizer.ggml.bos_token_id"), 1022);
  EXPECT_EQ(g.get_int("tokenizer.ggml.eos_token_id"), 1023);
  EXPECT_FALSE(g.get_bool("tokenizer.ggml.add_bos_token"));
  EXPECT_EQ(g.get_string_array("tokenizer.ggml.tokens")[1023], "<|im_end|>");
  // PyTorch order: ggml ne [256, 1024] → [1024, 256].
  EXPECT_EQ(g.find_tensor("token_embd.weight")->shape, (Shape{1024, 256}));
  EXPECT_EQ(g.find_tensor("blk.0.attn_k.weight")->shape, (Shape{128, 256}));
  EXPECT_EQ(g.find_tensor("blk.1.ffn_down.weight")->shape, (Shape{256, 512}));
  EXPECT_EQ(g.find_tensor("blk.0.attn_q_norm.weight")->shape, (Shape{64}));
  EXPECT_EQ(g.tensors().front().name, "token_embd.weight");
  EXPECT_EQ(g.tensors().back().name, "output.weight");
}

TEST(GgufFixtures, ParseFromMemoryEqualsOpen) {
  std::string path = rlx::test::require_file(gguf_fixture_dir() + "/tiny-qwen3-Q4_K_M.gguf");
  std::vector<uint8_t> bytes = rlx::iotest::read_bytes(path);
  GgufFile a = GgufFile::open(path);
  GgufFile b =
      GgufFile::parse(rlx::io::MappedFile::from_memory("mem.gguf", bytes.data(), bytes.size()));
  ASSERT_EQ(a.tensors().size(), b.tensors().size());
  EXPECT_EQ(a.metadata().size(), b.metadata().size());
  EXPECT_EQ(a.data_offset(), b.data_offset());
  for (size_t i = 0; i < a.tensors().size(); ++i) {
    EXPECT_EQ(a.tensors()[i].offset, b.tensors()[i].offset);
    EXPECT_EQ(a.tensors()[i].shape, b.tensors()[i].shape);
  }
  EXPECT_EQ(b.path(), "mem.gguf");
}

// ---- llama.cpp vocab files (fetched data) ----

void check_vocab(const std::string& file, size_t expected_tokens) {
  std::string path = rlx::test::require_file(rlx::test::data_dir() + "/llama.cpp/models/" + file);
  if (!fs::exists(path)) return;
  GgufFile g = GgufFile::open(path);
  const auto& tokens = g.get_string_array("tokenizer.ggml.tokens");
  if (expected_tokens) {
    EXPECT_EQ(tokens.size(), expected_tokens) << file;
  }
  // Parallel arrays agree with the token list.
  if (g.has("tokenizer.ggml.token_type")) {
    EXPECT_EQ(g.get_int_array("tokenizer.ggml.token_type").size(), tokens.size()) << file;
  }
  if (g.has("tokenizer.ggml.scores")) {
    EXPECT_EQ(g.get_float_array("tokenizer.ggml.scores").size(), tokens.size()) << file;
  }
  for (const char* key : {"tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id"})
    if (auto id = g.int_or(key)) {
      EXPECT_GE(*id, 0) << file << " " << key;
      EXPECT_LT(*id, int64_t(tokens.size())) << file << " " << key;
    }
  EXPECT_FALSE(g.get_string("tokenizer.ggml.model").empty());
  EXPECT_GT(g.get_string_array("tokenizer.ggml.merges").size(), 1000u) << file;
}

TEST(GgufVocab, Qwen2) {
  check_vocab("ggml-vocab-qwen2.gguf", 151936);
}
TEST(GgufVocab, LlamaBpe) {
  check_vocab("ggml-vocab-llama-bpe.gguf", 128256);
}

}  // namespace
