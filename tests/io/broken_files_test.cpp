// Malformed GGUF and safetensors files: every one must throw rlx::Error naming the file, never
// crash, hang or allocate absurdly. Files are built byte by byte.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "io_test_util.h"
#include "rlx/core/error.h"
#include "rlx/io/gguf.h"
#include "rlx/io/mmap_file.h"
#include "rlx/io/model_files.h"
#include "rlx/io/safetensors.h"
#include "rlx/io/weights.h"

namespace {

using rlx::DType;
using rlx::io::GgufFile;
using rlx::io::GgufType;
using rlx::io::GgufWriter;
using rlx::io::MappedFile;
using rlx::io::SafetensorsFile;
using rlx::iotest::Bytes;
using rlx::iotest::expect_error;
using rlx::iotest::TempDir;

constexpr const char* kName = "broken-input-file.gguf";
constexpr const char* kStName = "broken-input-file.safetensors";

std::string gguf_error(const std::vector<uint8_t>& b,
                       std::initializer_list<std::string> extra = {}) {
  std::string msg = expect_error(
      [&] { GgufFile::parse(MappedFile::from_memory(kName, b.data(), b.size())); }, {kName});
  for (auto& e : extra)
    EXPECT_NE(msg.find(e), std::string::npos) << "'" << e << "' not in: " << msg;
  return msg;
}

std::string st_error(const std::vector<uint8_t>& b, std::initializer_list<std::string> extra = {}) {
  std::string msg = expect_error(
      [&] { SafetensorsFile::parse(MappedFile::from_memory(kStName, b.data(), b.size())); },
      {kStName});
  for (auto& e : extra)
    EXPECT_NE(msg.find(e), std::string::npos) << "'" << e << "' not in: " << msg;
  return msg;
}

// GGUF header: magic, version, counts.
Bytes header(uint64_t n_tensors, uint64_t n_kv, uint32_t version = 3) {
  Bytes b;
  b.raw("GGUF").put<uint32_t>(version).put<uint64_t>(n_tensors).put<uint64_t>(n_kv);
  return b;
}

void tensor_info(Bytes& b, const std::string& name, std::vector<uint64_t> ne, uint32_t type,
                 uint64_t offset) {
  b.str(name).put<uint32_t>(uint32_t(ne.size()));
  for (auto v : ne) b.put<uint64_t>(v);
  b.put<uint32_t>(type).put<uint64_t>(offset);
}

// One F32 tensor of `ne` at `offset`, data section of `data_bytes` bytes.
std::vector<uint8_t> one_tensor(std::vector<uint64_t> ne, uint32_t type, uint64_t offset,
                                size_t data_bytes) {
  Bytes b = header(1, 0);
  tensor_info(b, "t", std::move(ne), type, offset);
  b.pad_to(32).zeros(data_bytes);
  return b.b;
}

// A small valid file whose last tensor ends exactly at the end of the file, so every strict
// prefix of it is broken.
std::vector<uint8_t> small_valid_gguf(const TempDir& dir) {
  std::vector<float> a(8, 1.0f), c(8, 2.0f);
  std::vector<uint8_t> q(34, 3);
  GgufWriter w;
  w.set_string("general.architecture", "tiny");
  w.set_u32("tiny.block_count", 2);
  w.set_string_array("tokenizer.ggml.tokens", {"a", "bc", ""});
  w.set_f32_array("f", {1.0f, 2.0f});
  w.set_bool("b", true);
  w.add_tensor("a", DType::F32, {2, 4}, a.data());
  w.add_tensor("q", DType::Q8_0, {32}, q.data());
  w.add_tensor("c", DType::F32, {8}, c.data());
  std::string path = dir.file("small.gguf");
  w.write(path);
  return rlx::iotest::read_bytes(path);
}

TEST(BrokenGguf, EveryTruncationThrows) {
  TempDir dir;
  std::vector<uint8_t> full = small_valid_gguf(dir);
  ASSERT_GT(full.size(), 200u);
  {
    GgufFile g = GgufFile::parse(MappedFile::from_memory(kName, full.data(), full.size()));
    ASSERT_EQ(g.tensors().size(), 3u);
    ASSERT_EQ(g.data_offset() + g.tensors()[2].offset + g.tensors()[2].bytes, full.size());
  }
  for (size_t n = 0; n < full.size(); ++n) {
    // A fresh heap copy of exactly n bytes, so reading past it is caught by sanitizers.
    std::vector<uint8_t> prefix(full.begin(), full.begin() + long(n));
    SCOPED_TRACE("prefix length " + std::to_string(n));
    gguf_error(prefix);
  }
}

TEST(BrokenGguf, EmptyAndTinyFiles) {
  TempDir dir;
  std::string empty = dir.file("empty.gguf");
  rlx::iotest::write_bytes(empty, "", 0);
  expect_error([&] { GgufFile::open(empty); }, {empty});
  expect_error([&] { rlx::io::resolve_model_files(empty); }, {empty});
  gguf_error({'G', 'G'});
  expect_error([&] { GgufFile::open(dir.file("does-not-exist.gguf")); }, {"does-not-exist.gguf"});
  expect_error([&] { GgufFile::open(dir.str()); }, {dir.str()});  // a directory
}

TEST(BrokenGguf, WrongMagicAndVersion) {
  Bytes b;
  b.raw("GGML").put<uint32_t>(3).put<uint64_t>(0).put<uint64_t>(0);
  gguf_error(b.b, {"magic"});
  Bytes s;
  s.put<uint64_t>(10).raw("{}        ");  // a safetensors file
  gguf_error(s.b, {"magic"});
  gguf_error(header(0, 0, 1).b, {"version 1"});
  gguf_error(header(0, 0, 4).b, {"version 4"});
  gguf_error(header(0, 0, 0).b, {"version"});
  // v2 and v3 with nothing in them are valid.
  for (uint32_t v : {2u, 3u}) {
    auto ok = header(0, 0, v).b;
    EXPECT_NO_THROW(GgufFile::parse(MappedFile::from_memory(kName, ok.data(), ok.size())));
  }
}

TEST(BrokenGguf, AbsurdCounts) {
  gguf_error(header(uint64_t(1) << 62, 0).b, {"tensor count"});
  gguf_error(header(~uint64_t(0), 0).b, {"tensor count"});
  gguf_error(header(0, uint64_t(1) << 62).b, {"metadata count"});
  gguf_error(header(0, ~uint64_t(0)).b, {"metadata count"});
  // Plausible-looking counts that the file does not hold.
  gguf_error(header(0, 3).zeros(40).b);
  gguf_error(header(2, 0).zeros(60).b);
}

TEST(BrokenGguf, AbsurdStringLengths) {
  {  // key length
    Bytes b = header(0, 1);
    b.put<uint64_t>(uint64_t(1) << 62).raw("key").put<uint32_t>(4).put<uint32_t>(1);
    gguf_error(b.b);
  }
  {  // key length UINT64_MAX
    Bytes b = header(0, 1);
    b.put<uint64_t>(~uint64_t(0)).zeros(16);
    gguf_error(b.b);
  }
  {  // string value length
    Bytes b = header(0, 1);
    b.str("k").put<uint32_t>(uint32_t(GgufType::String)).put<uint64_t>(~uint64_t(0) - 3).raw("abc");
    gguf_error(b.b);
  }
  {  // string inside an array
    Bytes b = header(0, 1);
    b.str("arr").put<uint32_t>(uint32_t(GgufType::Array)).put<uint32_t>(uint32_t(GgufType::String));
    b.put<uint64_t>(2).str("ok").put<uint64_t>(uint64_t(1) << 40).raw("xx");
    gguf_error(b.b);
  }
  {  // tensor name length
    Bytes b = header(1, 0);
    b.put<uint64_t>(uint64_t(1) << 50).zeros(40);
    gguf_error(b.b);
  }
}

TEST(BrokenGguf, ArrayCountOverflow) {
  for (uint32_t et : {uint32_t(GgufType::U64), uint32_t(GgufType::U8), uint32_t(GgufType::String),
                      uint32_t(GgufType::Array), uint32_t(GgufType::F32)}) {
    for (uint64_t n : {~uint64_t(0), uint64_t(1) << 61, (uint64_t(1) << 63) + 1, uint64_t(1000)}) {
      Bytes b = header(0, 1);
      b.str("arr").put<uint32_t>(uint32_t(GgufType::Array)).put<uint32_t>(et).put<uint64_t>(n);
      b.zeros(64);
      SCOPED_TRACE("elem type " + std::to_string(et) + " count " + std::to_string(n));
      gguf_error(b.b, {"arr"});
    }
  }
}

TEST(BrokenGguf, BadMetadataValues) {
  {  // unknown value type
    Bytes b = header(0, 1);
    b.str("k").put<uint32_t>(13).put<uint32_t>(0);
    gguf_error(b.b, {"k", "13"});
  }
  {  // unknown array element type
    Bytes b = header(0, 1);
    b.str("k").put<uint32_t>(uint32_t(GgufType::Array)).put<uint32_t>(99).put<uint64_t>(0);
    gguf_error(b.b, {"k"});
  }
  {  // bool that is neither 0 nor 1
    Bytes b = header(0, 1);
    b.str("flag").put<uint32_t>(uint32_t(GgufType::Bool)).put<uint8_t>(2);
    gguf_error(b.b, {"flag"});
  }
  {  // arrays nested too deeply
    Bytes b = header(0, 1);
    b.str("deep").put<uint32_t>(uint32_t(GgufType::Array));
    for (int i = 0; i < 64; ++i) b.put<uint32_t>(uint32_t(GgufType::Array)).put<uint64_t>(1);
    b.put<uint32_t>(uint32_t(GgufType::U8)).put<uint64_t>(0).zeros(64);
    gguf_error(b.b, {"deep"});
  }
  {  // duplicate key
    Bytes b = header(0, 2);
    b.str("k").put<uint32_t>(uint32_t(GgufType::U8)).put<uint8_t>(1);
    b.str("k").put<uint32_t>(uint32_t(GgufType::U8)).put<uint8_t>(2);
    gguf_error(b.b, {"duplicate", "k"});
  }
  for (uint32_t align : {0u, 3u, 48u}) {  // alignment must be a power of two
    Bytes b = header(0, 1);
    b.str("general.alignment").put<uint32_t>(uint32_t(GgufType::U32)).put<uint32_t>(align);
    gguf_error(b.b, {"alignment"});
  }
  {  // negative alignment (i32)
    Bytes b = header(0, 1);
    b.str("general.alignment").put<uint32_t>(uint32_t(GgufType::I32)).put<int32_t>(-32);
    gguf_error(b.b, {"alignment"});
  }
}

TEST(BrokenGguf, TensorOffsetOutOfBounds) {
  gguf_error(one_tensor({8}, 0, 32, 32), {"'t'", "outside"});       // starts inside, ends outside
  gguf_error(one_tensor({8}, 0, 1 << 20, 32), {"'t'", "outside"});  // starts beyond the end
  gguf_error(one_tensor({8}, 0, uint64_t(-32), 32), {"'t'"});       // wraps around
  gguf_error(one_tensor({8}, 0, 0, 31), {"'t'"});                   // one byte short
  // The exact size is fine.
  auto ok = one_tensor({8}, 0, 0, 32);
  EXPECT_NO_THROW(GgufFile::parse(MappedFile::from_memory(kName, ok.data(), ok.size())));
  // Tensors but the data section is entirely missing.
  Bytes b = header(1, 0);
  tensor_info(b, "t", {8}, 0, 0);
  gguf_error(b.b, {"truncated"});
}

TEST(BrokenGguf, OverlappingTensors) {
  Bytes b = header(2, 0);
  tensor_info(b, "first", {16}, 0, 0);   // [0, 64)
  tensor_info(b, "second", {8}, 0, 32);  // [32, 64)
  b.pad_to(32).zeros(64);
  gguf_error(b.b, {"overlap", "first", "second"});
  Bytes same = header(2, 0);
  tensor_info(same, "x", {8}, 0, 0);
  tensor_info(same, "y", {8}, 0, 0);
  same.pad_to(32).zeros(32);
  gguf_error(same.b, {"overlap"});
}

TEST(BrokenGguf, DuplicateTensorName) {
  Bytes b = header(2, 0);
  tensor_info(b, "dup", {8}, 0, 0);
  tensor_info(b, "dup", {8}, 0, 32);
  b.pad_to(32).zeros(64);
  gguf_error(b.b, {"duplicate", "dup"});
}

TEST(BrokenGguf, UnalignedOffset) {
  gguf_error(one_tensor({8}, 0, 4, 64), {"'t'", "aligned"});
  gguf_error(one_tensor({8}, 0, 33, 96), {"'t'", "aligned"});
}

TEST(BrokenGguf, UnknownGgmlType) {
  for (uint32_t type : {4u, 5u, 31u, 32u, 33u, 36u, 43u, 99u, 0xffffffffu}) {
    SCOPED_TRACE(type);
    gguf_error(one_tensor({32}, type, 0, 256), {"'t'", std::to_string(type)});
  }
}

TEST(BrokenGguf, BadDimensions) {
  gguf_error(one_tensor({1, 1, 1, 1, 1, 1, 1, 1, 1}, 0, 0, 32), {"'t'", "dimensions"});
  {
    Bytes b = header(1, 0);
    b.str("t").put<uint32_t>(0xffffffffu).zeros(64);
    gguf_error(b.b, {"'t'"});
  }
  gguf_error(one_tensor({uint64_t(1) << 41}, 0, 0, 32), {"'t'"});             // absurd dim
  gguf_error(one_tensor({1u << 30, 1u << 30, 1u << 30}, 0, 0, 32), {"'t'"});  // overflow
  gguf_error(one_tensor({~uint64_t(0)}, 0, 0, 32), {"'t'"});                  // -1
  gguf_error(one_tensor({31, 2}, 2 /* Q4_0 */, 0, 64), {"'t'", "block"});     // partial block
  // Zero-sized tensors are allowed.
  auto ok = one_tensor({0, 4}, 0, 0, 0);
  EXPECT_NO_THROW(GgufFile::parse(MappedFile::from_memory(kName, ok.data(), ok.size())));
}

TEST(BrokenGguf, RealFileNamesThePath) {
  TempDir dir;
  std::string path = dir.file("version-one.gguf");
  rlx::iotest::write_bytes(path, header(0, 0, 1).b);
  expect_error([&] { GgufFile::open(path); }, {path, "version"});
  expect_error([&] { rlx::io::resolve_model_files(path); }, {path});
}

// ---------------- safetensors ----------------

std::vector<uint8_t> st(const std::string& header, size_t data_bytes) {
  return rlx::iotest::safetensors_bytes(header, std::vector<uint8_t>(data_bytes, 0));
}

TEST(BrokenSafetensors, EveryTruncationThrows) {
  std::string h =
      R"({"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},)"
      R"("b":{"dtype":"F16","shape":[3],"data_offsets":[16,22]}})";
  std::vector<uint8_t> full = st(h, 22);
  EXPECT_EQ(SafetensorsFile::parse(MappedFile::from_memory(kStName, full.data(), full.size()))
                .tensors()
                .size(),
            2u);
  for (size_t n = 0; n < full.size(); ++n) {
    std::vector<uint8_t> prefix(full.begin(), full.begin() + long(n));
    SCOPED_TRACE("prefix length " + std::to_string(n));
    st_error(prefix);
  }
}

TEST(BrokenSafetensors, EmptyFile) {
  TempDir dir;
  std::string path = dir.file("empty.safetensors");
  rlx::iotest::write_bytes(path, "", 0);
  expect_error([&] { SafetensorsFile::open(path); }, {path});
  st_error({});
  st_error({1, 0, 0});
}

TEST(BrokenSafetensors, HeaderLength) {
  Bytes b;
  b.put<uint64_t>(1000).raw("{}");
  st_error(b.b, {"header length"});
  Bytes huge;
  huge.put<uint64_t>(~uint64_t(0)).raw("{}");
  st_error(huge.b, {"header length"});
  Bytes wrap;
  wrap.put<uint64_t>(~uint64_t(0) - 6).raw("{}");  // 8 + n would wrap around
  st_error(wrap.b);
  // Empty header (length 0) is invalid JSON.
  Bytes zero;
  zero.put<uint64_t>(0);
  st_error(zero.b);
}

TEST(BrokenSafetensors, InvalidJson) {
  st_error(st("{", 0), {"JSON"});
  st_error(st(R"({"a":{"dtype":"F32",}})", 0), {"JSON"});
  st_error(st(std::string("{\"a\"\0:1}", 8), 0));
  st_error(st("\xff\xfe{}", 0));
}

TEST(BrokenSafetensors, NonObjectJson) {
  st_error(st("[]", 0), {"object"});
  st_error(st("42", 0), {"object"});
  st_error(st("\"str\"", 0), {"object"});
  st_error(st("null", 0), {"object"});
  st_error(st(R"({"a":[1,2]})", 0), {"'a'"});  // tensor entry not an object
  st_error(st(R"({"__metadata__":[1]})", 0), {"__metadata__"});
}

TEST(BrokenSafetensors, UnknownDtype) {
  for (const char* dt : {"F7", "Q4_K", "Q8_0", "", "float32x"}) {
    SCOPED_TRACE(dt);
    st_error(
        st(std::string(R"({"w":{"dtype":")") + dt + R"(","shape":[1],"data_offsets":[0,4]}})", 4),
        {"'w'", "dtype"});
  }
  st_error(st(R"({"w":{"dtype":4,"shape":[1],"data_offsets":[0,4]}})", 4), {"'w'"});
}

TEST(BrokenSafetensors, MissingOrBadFields) {
  st_error(st(R"({"w":{"shape":[1],"data_offsets":[0,4]}})", 4), {"'w'", "dtype"});
  st_error(st(R"({"w":{"dtype":"F32","data_offsets":[0,4]}})", 4), {"'w'", "shape"});
  st_error(st(R"({"w":{"dtype":"F32","shape":[1]}})", 4), {"'w'", "data_offsets"});
  st_error(st(R"({"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", 4), {"'w'"});
  st_error(st(R"({"w":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}})", 4), {"'w'"});
  st_error(st(R"({"w":{"dtype":"F32","shape":[1,1,1,1,1,1,1,1,1],"data_offsets":[0,4]}})", 4),
           {"'w'"});
  st_error(
      st(R"({"w":{"dtype":"F32","shape":[1099511627776,1099511627776],"data_offsets":[0,4]}})", 4),
      {"'w'"});
  st_error(st(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0]}})", 4), {"'w'"});
  st_error(st(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,-4]}})", 4), {"'w'"});
  st_error(st(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":"0-4"}})", 4), {"'w'"});
}

TEST(BrokenSafetensors, WrongByteCount) {
  st_error(st(R"({"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,20]}})", 24), {"'w'", "24"});
  st_error(st(R"({"w":{"dtype":"BF16","shape":[3],"data_offsets":[0,8]}})", 8), {"'w'"});
  st_error(st(R"({"w":{"dtype":"F32","shape":[],"data_offsets":[0,0]}})", 4), {"'w'"});
}

TEST(BrokenSafetensors, OutOfBounds) {
  st_error(st(R"({"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", 15), {"'w'"});
  st_error(
      st(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[18446744073709551612,18446744073709551615]}})",
         16),
      {"'w'"});
}

TEST(BrokenSafetensors, BeginAfterEnd) {
  st_error(st(R"({"w":{"dtype":"U8","shape":[0],"data_offsets":[8,4]}})", 16), {"'w'"});
}

TEST(BrokenSafetensors, OverlappingOffsets) {
  st_error(st(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},)"
              R"("b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})",
              16),
           {"overlap", "'a'", "'b'"});
  st_error(st(R"({"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},)"
              R"("b":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}})",
              4),
           {"overlap"});
  // Adjacent tensors are fine; so are empty ones sharing an offset with a neighbour's end.
  auto ok = st(R"({"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},)"
               R"("b":{"dtype":"U8","shape":[4],"data_offsets":[4,8]}})",
               8);
  EXPECT_NO_THROW(SafetensorsFile::parse(MappedFile::from_memory(kStName, ok.data(), ok.size())));
}

TEST(BrokenSafetensors, RealFileNamesThePath) {
  TempDir dir;
  std::string path = dir.file("not-json.safetensors");
  rlx::iotest::write_bytes(path, st("{oops", 0));
  expect_error([&] { SafetensorsFile::open(path); }, {path});
  expect_error([&] { rlx::io::WeightStore::open(path); }, {path});
}

}  // namespace

namespace {

// Zero-size tensors share their offset with the next tensor (that is how sequential writers lay
// them out); they overlap nothing, whatever order the header lists them in.
TEST(EmptyTensors, SafetensorsEmptyTensorSharingAnOffsetIsNotAnOverlap) {
  auto b = st(R"({"a":{"dtype":"U8","shape":[4],"data_offsets":[4,8]},)"
              R"("b":{"dtype":"U8","shape":[0],"data_offsets":[4,4]},)"
              R"("c":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}})",
              8);
  EXPECT_NO_THROW(SafetensorsFile::parse(MappedFile::from_memory(kStName, b.data(), b.size())));
}

TEST(EmptyTensors, GgufEmptyTensorSharingAnOffsetIsNotAnOverlap) {
  Bytes b = header(3, 0);
  tensor_info(b, "x", {8}, 0, 0);
  tensor_info(b, "y", {8}, 0, 32);
  tensor_info(b, "e", {0}, 0, 32);
  b.pad_to(32).zeros(64);
  EXPECT_NO_THROW(GgufFile::parse(MappedFile::from_memory(kName, b.b.data(), b.b.size())));
  // Many tensors (std::sort switches away from insertion sort): still no false overlap.
  TempDir dir;
  GgufWriter w;
  std::vector<float> d(8, 1.0f);
  for (int i = 0; i < 40; ++i) {
    // fmt::format rather than "t" + std::to_string(i): GCC 12 warns falsely (-Wrestrict) there.
    w.add_tensor(fmt::format("t{}", i), DType::F32, {8}, d.data());
    w.add_tensor(fmt::format("empty{}", i), DType::F32, {0, 8}, d.data());
  }
  w.write(dir.file("many.gguf"));
  EXPECT_NO_THROW(GgufFile::open(dir.file("many.gguf")));
}

}  // namespace
