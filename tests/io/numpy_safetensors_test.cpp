// A safetensors file written by numpy (scripts/ref/make_numpy_safetensors.py) reads back
// exactly, for every dtype the format defines.
#include <gtest/gtest.h>

#include <cmath>

#include "rlx/io/npy.h"
#include "rlx/io/safetensors.h"
#include "support/test_data.h"

namespace rlx::test {
namespace {

TEST(SafetensorsFromNumpy, EveryDtypeReadsBackExactly) {
  const std::string dir = repo_dir() + "/tests/fixtures/io/";
  io::SafetensorsFile f = io::SafetensorsFile::open(require_file(dir + "numpy_dtypes.safetensors"));
  Tensor expected = io::read_npy(require_file(dir + "numpy_dtypes.expected.npy"));
  ASSERT_EQ(expected.dtype(), DType::F64);
  ASSERT_EQ(f.tensors().size(), 14u);
  int64_t at = 0;
  for (auto& t : f.tensors()) {  // names sort in file order (a_..., b_..., ...)
    Tensor got = to_f32(f.tensor_view(t));
    for (int64_t i = 0; i < got.numel(); ++i, ++at) {
      double want = expected.ptr<double>()[at];
      if (std::isnan(want)) {
        EXPECT_TRUE(std::isnan(got.ptr<float>()[i])) << t.name << "[" << i << "]";
      } else {
        ASSERT_EQ(double(got.ptr<float>()[i]), double(float(want))) << t.name << "[" << i << "]";
      }
    }
  }
  EXPECT_EQ(at, expected.numel());
  EXPECT_EQ(f.metadata().at("format"), "pt");
}

}  // namespace
}  // namespace rlx::test
