// safetensors reading, model-file resolution (directories, indexes, split GGUF), WeightStore /
// WeightScope binding and errors, and .npy round trips.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "io_test_util.h"
#include "rlx/core/error.h"
#include "rlx/core/half.h"
#include "rlx/io/gguf.h"
#include "rlx/io/model_files.h"
#include "rlx/io/npy.h"
#include "rlx/io/safetensors.h"
#include "rlx/io/weights.h"
#include "support/test_data.h"

namespace {

namespace fs = std::filesystem;
using rlx::DType;
using rlx::Shape;
using rlx::io::ModelFiles;
using rlx::io::resolve_model_files;
using rlx::io::SafetensorsFile;
using rlx::io::WeightFormat;
using rlx::io::WeightStore;
using rlx::iotest::expect_error;
using rlx::iotest::TempDir;

// Builds a safetensors file from (name, dtype string, shape, bytes), laid out in order.
struct StBuilder {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  std::vector<uint8_t> data;
  void add(const std::string& name, const std::string& dtype, std::vector<int64_t> shape,
           const void* bytes, size_t n) {
    header[name] = {
        {"dtype", dtype}, {"shape", shape}, {"data_offsets", {data.size(), data.size() + n}}};
    const uint8_t* p = static_cast<const uint8_t*>(bytes);
    data.insert(data.end(), p, p + n);
  }
  template <class T>
  void add(const std::string& name, const std::string& dtype, std::vector<int64_t> shape,
           const std::vector<T>& v) {
    add(name, dtype, std::move(shape), v.data(), v.size() * sizeof(T));
  }
  void write(const std::string& path) const {
    std::string h = header.dump();
    h.append((8 - h.size() % 8) % 8, ' ');  // as the reference writer pads
    rlx::iotest::write_bytes(path, rlx::iotest::safetensors_bytes(h, data));
  }
};

TEST(Safetensors, EveryDtypeReadsBackExactly) {
  TempDir dir;
  std::vector<float> f32 = {1.0f, -2.5f, 3.25f, 1e-30f, -0.0f, 65504.0f};
  std::vector<uint16_t> f16, bf16;
  for (float x : {0.5f, -1.0f, 2.0f, 1024.0f}) f16.push_back(rlx::f32_to_f16(x));
  for (float x : {0.5f, -3.0f, 1e20f}) bf16.push_back(rlx::f32_to_bf16(x));
  std::vector<int64_t> i64 = {INT64_MIN, -1, 0, INT64_MAX};
  std::vector<uint8_t> u8 = {0, 1, 127, 128, 255};
  std::vector<uint8_t> boolean = {1, 0, 0, 1};
  std::vector<int32_t> i32 = {-7};
  StBuilder b;
  b.header["__metadata__"] = {{"format", "pt"}, {"note", "hand made"}};
  b.add("w.f32", "F32", {2, 3}, f32);
  b.add("w.f16", "F16", {4}, f16);
  b.add("w.bf16", "BF16", {3, 1}, bf16);
  b.add("w.i64", "I64", {2, 2}, i64);
  b.add("w.u8", "U8", {5}, u8);
  b.add("w.bool", "BOOL", {2, 2}, boolean);
  b.add("w.scalar", "I32", {}, i32);
  b.add("w.empty", "F32", {0, 3}, nullptr, 0);
  std::string path = dir.file("all.safetensors");
  b.write(path);

  SafetensorsFile st = SafetensorsFile::open(path);
  EXPECT_EQ(st.metadata().at("format"), "pt");
  EXPECT_EQ(st.metadata().at("note"), "hand made");
  EXPECT_EQ(st.data_offset() % 8, 0u);
  std::map<std::string, rlx::io::SafetensorsTensorInfo> by_name;
  for (auto& t : st.tensors()) by_name[t.name] = t;
  ASSERT_EQ(by_name.size(), 8u);
  auto check = [&](const std::string& name, DType dt, Shape shape, const void* want, size_t n) {
    SCOPED_TRACE(name);
    ASSERT_TRUE(by_name.count(name));
    const auto& t = by_name[name];
    EXPECT_EQ(t.dtype, dt);
    EXPECT_EQ(t.shape, shape) << t.shape.str();
    EXPECT_EQ(t.end - t.begin, n);
    rlx::TensorView v = st.tensor_view(t);
    EXPECT_EQ(v.dtype, dt);
    EXPECT_EQ(v.shape, shape);
    EXPECT_EQ(v.nbytes(), int64_t(n));
    if (n) {
      EXPECT_EQ(std::memcmp(v.data, want, n), 0);
    }
  };
  check("w.f32", DType::F32, {2, 3}, f32.data(), 24);
  check("w.f16", DType::F16, {4}, f16.data(), 8);
  check("w.bf16", DType::BF16, {3, 1}, bf16.data(), 6);
  check("w.i64", DType::I64, {2, 2}, i64.data(), 32);
  check("w.u8", DType::U8, {5}, u8.data(), 5);
  check("w.bool", DType::Bool, {2, 2}, boolean.data(), 4);
  check("w.scalar", DType::I32, {}, i32.data(), 4);
  check("w.empty", DType::F32, {0, 3}, nullptr, 0);

  // Values convert exactly.
  rlx::Tensor f = rlx::to_f32(st.tensor_view(by_name["w.f16"]));
  EXPECT_EQ(f.ptr<float>()[3], 1024.0f);
  rlx::Tensor g = rlx::to_f32(st.tensor_view(by_name["w.bf16"]));
  EXPECT_EQ(g.ptr<float>()[1], -3.0f);

  // The same file through WeightStore.
  auto ws = WeightStore::open(path);
  EXPECT_EQ(ws->format(), WeightFormat::Safetensors);
  EXPECT_EQ(ws->names().size(), 8u);
  EXPECT_EQ(ws->safetensors_metadata().at("format"), "pt");
  EXPECT_EQ(ws->gguf(), nullptr);
  EXPECT_EQ(ws->get("w.i64").ptr<int64_t>()[0], INT64_MIN);
  EXPECT_EQ(ws->total_bytes(), 24 + 8 + 6 + 32 + 5 + 4 + 4 + 0);

  // And parsed from memory (how embedded weights are read).
  std::vector<uint8_t> bytes = rlx::iotest::read_bytes(path);
  auto mem = WeightStore::from_safetensors_bytes("embedded", bytes.data(), bytes.size());
  EXPECT_EQ(std::memcmp(mem->get("w.f32").data, f32.data(), 24), 0);
}

void write_shard(const std::string& path, const std::vector<std::string>& names, float base) {
  StBuilder b;
  for (size_t i = 0; i < names.size(); ++i) {
    std::vector<float> v = {base + float(i), base + float(i) + 0.5f};
    b.add(names[i], "F32", {2}, v);
  }
  b.write(path);
}

void write_index(const std::string& path, const std::map<std::string, std::string>& map) {
  nlohmann::json j = {{"metadata", {{"total_size", 0}}}, {"weight_map", map}};
  std::ofstream(path) << j.dump(1);
}

TEST(ModelFiles, ShardedSafetensorsDirectory) {
  TempDir dir;
  const std::string s1 = "model-00001-of-00002.safetensors",
                    s2 = "model-00002-of-00002.safetensors";
  write_shard(dir.file(s1), {"a.weight", "b.weight"}, 1.0f);
  write_shard(dir.file(s2), {"c.weight"}, 10.0f);
  write_index(dir.file("model.safetensors.index.json"),
              {{"a.weight", s1}, {"b.weight", s1}, {"c.weight", s2}});
  std::ofstream(dir.file("config.json")) << R"({"model_type": "toy"})";

  ModelFiles m = resolve_model_files(dir.str());
  EXPECT_EQ(m.format, WeightFormat::Safetensors);
  ASSERT_EQ(m.files.size(), 2u);
  EXPECT_EQ(fs::path(m.files[0]).filename(), s1);
  EXPECT_EQ(fs::path(m.files[1]).filename(), s2);
  EXPECT_EQ(fs::path(m.dir), fs::path(dir.str()));
  // The index file itself resolves the same.
  EXPECT_EQ(resolve_model_files(dir.file("model.safetensors.index.json")).files, m.files);
  EXPECT_EQ(rlx::io::safetensors_index_shards(dir.file("model.safetensors.index.json")), m.files);

  auto ws = WeightStore::open(dir.str());
  EXPECT_EQ(ws->names().size(), 3u);
  EXPECT_EQ(ws->get("c.weight").ptr<float>()[1], 10.5f);
  EXPECT_EQ(ws->get("b.weight").ptr<float>()[0], 2.0f);

  // A missing shard is named.
  fs::remove(dir.file(s2));
  expect_error([&] { resolve_model_files(dir.str()); }, {s2, "missing"});
  expect_error([&] { WeightStore::open(dir.str()); }, {s2});
}

TEST(ModelFiles, SafetensorsDirectoryChoices) {
  TempDir dir;
  write_shard(dir.file("only.safetensors"), {"x"}, 0.0f);
  ModelFiles one = resolve_model_files(dir.str());
  ASSERT_EQ(one.files.size(), 1u);
  EXPECT_EQ(fs::path(one.files[0]).filename(), "only.safetensors");
  write_shard(dir.file("other.safetensors"), {"y"}, 0.0f);
  expect_error([&] { resolve_model_files(dir.str()); }, {dir.str(), "2 .safetensors", "index"});
  write_shard(dir.file("model.safetensors"), {"z"}, 0.0f);  // model.safetensors wins
  ModelFiles m = resolve_model_files(dir.str());
  ASSERT_EQ(m.files.size(), 1u);
  EXPECT_EQ(fs::path(m.files[0]).filename(), "model.safetensors");
}

TEST(ModelFiles, BadPaths) {
  TempDir dir;
  expect_error([&] { resolve_model_files(dir.file("nope")); },
               {dir.file("nope"), "does not exist"});
  expect_error([&] { resolve_model_files(dir.str()); }, {dir.str(), "no .gguf"});
  std::ofstream(dir.file("weights.bin")) << "x";
  expect_error([&] { resolve_model_files(dir.file("weights.bin")); }, {dir.file("weights.bin")});
  std::ofstream(dir.file("bad.safetensors.index.json")) << "{ not json";
  expect_error([&] { resolve_model_files(dir.file("bad.safetensors.index.json")); },
               {"bad.safetensors.index.json"});
  std::ofstream(dir.file("evil.safetensors.index.json"))
      << R"({"weight_map": {"a": "../x.safetensors"}})";
  expect_error([&] { resolve_model_files(dir.file("evil.safetensors.index.json")); },
               {"../x.safetensors"});
}

void write_tiny_gguf(const std::string& path, float v) {
  std::vector<float> d(4, v);
  rlx::io::GgufWriter w;
  w.set_string("general.architecture", "tiny");
  w.add_tensor("t", DType::F32, {4}, d.data());
  w.write(path);
}

TEST(ModelFiles, SeveralGgufFilesNeedPrefer) {
  TempDir dir;
  write_tiny_gguf(dir.file("m-Q4_K_M.gguf"), 1);
  write_tiny_gguf(dir.file("m-Q4_K_S.gguf"), 2);
  write_tiny_gguf(dir.file("m-Q8_0.gguf"), 3);
  std::string msg =
      expect_error([&] { resolve_model_files(dir.str()); },
                   {dir.str(), "m-Q4_K_M.gguf", "m-Q4_K_S.gguf", "m-Q8_0.gguf", "--prefer"});
  auto m = resolve_model_files(dir.str(), "q8_0");  // case-insensitive
  ASSERT_EQ(m.files.size(), 1u);
  EXPECT_EQ(fs::path(m.files[0]).filename(), "m-Q8_0.gguf");
  EXPECT_EQ(m.format, WeightFormat::Gguf);
  EXPECT_EQ(fs::path(resolve_model_files(dir.str(), "Q4_K_S").files[0]).filename(),
            "m-Q4_K_S.gguf");
  // "Q4_K" matches two: still ambiguous, and says so.
  expect_error([&] { resolve_model_files(dir.str(), "Q4_K"); },
               {"2 match 'Q4_K'", "m-Q4_K_M.gguf"});
  expect_error([&] { resolve_model_files(dir.str(), "F16"); }, {"0 match 'F16'"});
  auto ws = WeightStore::open(dir.str(), "Q4_K_M");
  EXPECT_EQ(ws->get("t").ptr<float>()[0], 1.0f);
  ASSERT_NE(ws->gguf(), nullptr);
  EXPECT_EQ(ws->gguf()->architecture(), "tiny");
}

const char* kSplit[] = {"tiny-qwen3-F16-00001-of-00003.gguf", "tiny-qwen3-F16-00002-of-00003.gguf",
                        "tiny-qwen3-F16-00003-of-00003.gguf"};

TEST(ModelFiles, SplitGgufNames) {
  EXPECT_EQ(rlx::io::split_gguf_names("/a/b/x-00002-of-00003.gguf"),
            (std::vector<std::string>{"/a/b/x-00001-of-00003.gguf", "/a/b/x-00002-of-00003.gguf",
                                      "/a/b/x-00003-of-00003.gguf"}));
  EXPECT_TRUE(rlx::io::split_gguf_names("/a/b/x.gguf").empty());
  EXPECT_TRUE(rlx::io::split_gguf_names("/a/b/x-0001-of-0003.gguf").empty());
}

TEST(ModelFiles, SplitGguf) {
  TempDir dir;
  std::string src = rlx::test::shared_fixtures_dir() + "/gguf/";
  for (const char* s : kSplit) fs::copy_file(rlx::test::require_file(src + s), dir.file(s));

  ModelFiles m = resolve_model_files(dir.str());
  ASSERT_EQ(m.files.size(), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(fs::path(m.files[i]).filename(), kSplit[i]);
  // Any shard expands to the whole set.
  EXPECT_EQ(resolve_model_files(dir.file(kSplit[1])).files, m.files);

  auto ws = WeightStore::open(dir.str());
  EXPECT_EQ(ws->names().size(), 25u);
  EXPECT_TRUE(ws->contains("token_embd.weight"));
  EXPECT_TRUE(ws->contains("output.weight"));
  EXPECT_TRUE(ws->contains("blk.1.ffn_down.weight"));
  EXPECT_EQ(ws->get("blk.1.ffn_down.weight").shape, (Shape{256, 512}));
  ASSERT_NE(ws->gguf(), nullptr);
  EXPECT_EQ(ws->gguf()->architecture(), "qwen3");

  // Same tensor bytes as the unsplit F16 file.
  auto whole = WeightStore::open(rlx::test::require_file(src + "tiny-qwen3-F16.gguf"));
  for (auto& n : whole->names()) {
    auto a = whole->get(n), b = ws->get(n);
    ASSERT_EQ(a.shape, b.shape) << n;
    EXPECT_EQ(std::memcmp(a.data, b.data, size_t(a.nbytes())), 0) << n;
  }

  // Another model beside the split set: the set counts as one candidate.
  write_tiny_gguf(dir.file("other.gguf"), 0);
  expect_error([&] { resolve_model_files(dir.str()); }, {"2 GGUF models", kSplit[0], "other.gguf"});
  EXPECT_EQ(resolve_model_files(dir.str(), "F16").files.size(), 3u);
  fs::remove(dir.file("other.gguf"));

  fs::remove(dir.file(kSplit[1]));
  expect_error([&] { resolve_model_files(dir.str()); }, {kSplit[1], "missing"});
  expect_error([&] { resolve_model_files(dir.file(kSplit[2])); }, {kSplit[1]});
  expect_error([&] { WeightStore::open(dir.file(kSplit[0])); }, {kSplit[1]});
}

TEST(WeightScope, BindingAndErrors) {
  TempDir dir;
  StBuilder b;
  std::vector<float> w6(6, 1.0f), w2(2, 2.0f);
  b.add("model.layers.0.self_attn.q_proj.weight", "F32", {3, 2}, w6);
  b.add("model.layers.0.self_attn.k_proj.weight", "F32", {2}, w2);
  b.add("model.layers.1.self_attn.q_proj.weight", "F32", {3, 2}, w6);
  b.add("model.norm.weight", "F32", {2}, w2);
  b.add("lm_head.weight", "F32", {2, 3}, w6);
  std::string path = dir.file("model.safetensors");
  b.write(path);
  auto ws = WeightStore::open(path);
  auto root = ws->root();
  auto layer0 = root.sub("model").sub("layers").sub(0);
  EXPECT_EQ(layer0.path("self_attn.q_proj.weight"), "model.layers.0.self_attn.q_proj.weight");
  EXPECT_EQ(layer0.sub("self_attn").get("q_proj.weight", {3, 2}).shape, (Shape{3, 2}));
  EXPECT_TRUE(layer0.contains("self_attn.k_proj.weight"));
  EXPECT_FALSE(layer0.contains("self_attn.v_proj.weight"));
  EXPECT_FALSE(layer0.maybe("self_attn.v_proj.weight", {2}).has_value());

  // Shape mismatch: full path, both shapes.
  expect_error(
      [&] {
        layer0.get("self_attn.q_proj.weight", {2, 3});
      },
      {"model.layers.0.self_attn.q_proj.weight", "[3, 2]", "[2, 3]"});
  expect_error([&] { layer0.maybe("self_attn.k_proj.weight", {3}); },
               {"model.layers.0.self_attn.k_proj.weight", "[2]", "[3]"});
  // Missing: full path and the closest names.
  expect_error([&] { root.sub("model").sub("layers").sub(1).get("self_attn.k_proj.weight", {2}); },
               {"model.layers.1.self_attn.k_proj.weight", "model.layers.0.self_attn.k_proj.weight",
                "not found", path});
  expect_error([&] { root.sub("model").get("norm.weigth", {2}); },
               {"model.norm.weigth", "model.norm.weight"});
  EXPECT_EQ(ws->closest_names("model.layers.1.self_attn.k_proj.weight", 1),
            (std::vector<std::string>{"model.layers.0.self_attn.k_proj.weight"}));

  // unused(): never fetched (safetensors headers are JSON objects: no meaningful order, so
  // compare sorted). Shape-mismatched fetches above count as used.
  auto sorted_unused = [&] {
    auto u = ws->unused();
    std::sort(u.begin(), u.end());
    return u;
  };
  EXPECT_EQ(sorted_unused(),
            (std::vector<std::string>{"lm_head.weight", "model.layers.1.self_attn.q_proj.weight",
                                      "model.norm.weight"}));
  root.get("lm_head.weight", {2, 3});
  root.sub("model").get("norm.weight", {2});
  EXPECT_EQ(sorted_unused(), (std::vector<std::string>{"model.layers.1.self_attn.q_proj.weight"}));
  ws->find("model.layers.1.self_attn.q_proj.weight");
  EXPECT_TRUE(ws->unused().empty());
}

TEST(WeightStore, NameMap) {
  TempDir dir;
  StBuilder b;
  std::vector<float> w(2, 1.0f);
  b.add("blk.0.attn_q.weight", "F32", {2}, w);
  b.add("blk.0.attn_k.weight", "F32", {2}, w);
  std::string path = dir.file("m.safetensors");
  b.write(path);
  auto ws = WeightStore::open(path);
  ws->set_name_map([](const std::string& n) {
    std::string s = n;
    auto rep = [&](const std::string& a, const std::string& b) {
      auto p = s.find(a);
      if (p != std::string::npos) s.replace(p, a.size(), b);
    };
    rep("model.layers.", "blk.");
    rep("self_attn.q_proj", "attn_q");
    rep("self_attn.k_proj", "attn_k");
    return s;
  });
  EXPECT_TRUE(ws->contains("model.layers.0.self_attn.q_proj.weight"));
  EXPECT_EQ(ws->root().sub("model.layers").sub(0).get("self_attn.k_proj.weight", {2}).shape,
            (Shape{2}));
  expect_error([&] { ws->get("model.layers.0.self_attn.v_proj.weight"); },
               {"model.layers.0.self_attn.v_proj.weight", "self_attn.v_proj", "blk.0.attn_"});
  EXPECT_EQ(ws->unused(), (std::vector<std::string>{"blk.0.attn_q.weight"}));
}

// ---------------- npy ----------------

TEST(Npy, RoundTrip) {
  TempDir dir;
  {
    rlx::Tensor t = rlx::Tensor::empty(DType::F32, {2, 3, 4});
    for (int i = 0; i < 24; ++i) t.ptr<float>()[i] = float(i) * 0.5f - 3.0f;
    rlx::io::write_npy(dir.file("f.npy"), t.view());
    rlx::Tensor r = rlx::io::read_npy(dir.file("f.npy"));
    EXPECT_EQ(r.dtype(), DType::F32);
    EXPECT_EQ(r.shape(), (Shape{2, 3, 4}));
    EXPECT_EQ(std::memcmp(r.data(), t.data(), 96), 0);
    // A transposed (non-contiguous) view is written in its logical order.
    rlx::TensorView tv = t.view().transpose(0, 2);
    rlx::io::write_npy(dir.file("t.npy"), tv);
    rlx::Tensor rt = rlx::io::read_npy(dir.file("t.npy"));
    EXPECT_EQ(rt.shape(), (Shape{4, 3, 2}));
    // rt[k][j][i] == t[i][j][k]
    EXPECT_EQ(rt.ptr<float>()[(3 * 3 + 2) * 2 + 1], t.ptr<float>()[(1 * 3 + 2) * 4 + 3]);
    // Header is 64-byte aligned as numpy writes it.
    auto bytes = rlx::iotest::read_bytes(dir.file("f.npy"));
    uint16_t hlen = uint16_t(bytes[8] | (bytes[9] << 8));
    EXPECT_EQ((10 + hlen) % 64, 0);
  }
  auto round = [&](DType dt, Shape shape, size_t elem) {
    rlx::Tensor t = rlx::Tensor::empty(dt, shape);
    auto* p = static_cast<uint8_t*>(t.data());
    for (int64_t i = 0; i < int64_t(elem) * shape.numel(); ++i) p[i] = uint8_t(i * 7 + 1);
    if (dt == DType::Bool)
      for (int64_t i = 0; i < shape.numel(); ++i) p[i] &= 1;
    std::string path = dir.file(std::string(rlx::dtype_name(dt)) + ".npy");
    rlx::io::write_npy(path, t.view());
    rlx::Tensor r = rlx::io::read_npy(path);
    EXPECT_EQ(r.dtype(), dt) << rlx::dtype_name(dt);
    EXPECT_EQ(r.shape(), shape) << rlx::dtype_name(dt);
    EXPECT_EQ(std::memcmp(r.data(), t.data(), size_t(t.nbytes())), 0) << rlx::dtype_name(dt);
  };
  round(DType::F16, {5}, 2);
  round(DType::F64, {2, 2}, 8);
  round(DType::I64, {3, 1}, 8);
  round(DType::I32, {7}, 4);
  round(DType::U8, {2, 2, 2}, 1);
  round(DType::Bool, {6}, 1);
  round(DType::F32, {}, 4);  // 0-d
  round(DType::F32, {0, 3}, 4);
  EXPECT_THROW(rlx::io::write_npy(dir.file("bf.npy"), rlx::Tensor::empty(DType::BF16, {2}).view()),
               rlx::Error);
}

TEST(Npy, BrokenFiles) {
  TempDir dir;
  std::string p = dir.file("bad.npy");
  rlx::iotest::write_bytes(p, "not numpy at all", 16);
  expect_error([&] { rlx::io::read_npy(p); }, {p});
  rlx::Tensor t = rlx::Tensor::zeros(DType::F32, {16});
  rlx::io::write_npy(dir.file("ok.npy"), t.view());
  auto bytes = rlx::iotest::read_bytes(dir.file("ok.npy"));
  for (size_t n : {size_t(0), size_t(5), size_t(12), size_t(70), bytes.size() - 1}) {
    std::string tp = dir.file("trunc" + std::to_string(n) + ".npy");
    rlx::iotest::write_bytes(tp, bytes.data(), n);
    expect_error([&] { rlx::io::read_npy(tp); }, {tp});
  }
}

TEST(Npy, GgufFixtureReferenceMatchesF32Tensor) {
  // gguf-py's dump of an F32 tensor equals the tensor rlx maps from the GGUF file.
  std::string dir = rlx::test::shared_fixtures_dir() + "/gguf/";
  rlx::Tensor ref =
      rlx::io::read_npy(rlx::test::require_file(dir + "tiny-qwen3-F32.blk.0.attn_q.weight.npy"));
  auto ws = WeightStore::open(rlx::test::require_file(dir + "tiny-qwen3-F32.gguf"));
  rlx::TensorView v = ws->get("blk.0.attn_q.weight");
  ASSERT_EQ(ref.dtype(), DType::F32);
  ASSERT_EQ(ref.shape(), v.shape);
  EXPECT_EQ(std::memcmp(ref.data(), v.data, size_t(v.nbytes())), 0);
}

}  // namespace
