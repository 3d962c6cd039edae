#include "rlx/io/npy.h"

#include <cstring>
#include <regex>

#include "rlx/core/error.h"
#include "rlx/io/mmap_file.h"

namespace rlx::io {
namespace {

const char* descr_of(DType t) {
  switch (t) {
    case DType::F32:
      return "<f4";
    case DType::F16:
      return "<f2";
    case DType::F64:
      return "<f8";
    case DType::I8:
      return "|i1";
    case DType::I16:
      return "<i2";
    case DType::I32:
      return "<i4";
    case DType::I64:
      return "<i8";
    case DType::U8:
      return "|u1";
    case DType::U16:
      return "<u2";
    case DType::U32:
      return "<u4";
    case DType::U64:
      return "<u8";
    case DType::Bool:
      return "|b1";
    default:
      return nullptr;
  }
}

}  // namespace

void write_npy(const std::string& path, const TensorView& v) {
  const char* descr = descr_of(v.dtype);
  RLX_CHECK(descr, "cannot write dtype {} to .npy", dtype_name(v.dtype));
  Tensor c = contiguous_copy(v);
  std::string shape = "(";
  for (int i = 0; i < v.rank(); ++i)
    shape += std::to_string(v.shape[i]) + (v.rank() == 1 ? "," : i + 1 < v.rank() ? ", " : "");
  shape += ")";
  std::string header =
      "{'descr': '" + std::string(descr) + "', 'fortran_order': False, 'shape': " + shape + ", }";
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  AtomicFileWriter w(path);
  w.write("\x93NUMPY\x01\x00", 8);
  uint16_t len = uint16_t(header.size());
  w.write(&len, 2);
  w.write(header.data(), header.size());
  w.write(c.data(), size_t(c.nbytes()));
  w.commit();
}

Tensor read_npy(const std::string& path) {
  auto f = MappedFile::open(path);
  const uint8_t* p = f->data();
  size_t n = f->size();
  RLX_CHECK(n >= 10 && std::memcmp(p, "\x93NUMPY", 6) == 0, "{}: not an .npy file", path);
  size_t hlen, hoff;
  if (p[6] == 1) {
    hlen = p[8] | (p[9] << 8);
    hoff = 10;
  } else {
    RLX_CHECK(n >= 12, "{}: truncated .npy header", path);
    hlen = p[8] | (p[9] << 8) | (size_t(p[10]) << 16) | (size_t(p[11]) << 24);
    hoff = 12;
  }
  RLX_CHECK(hoff + hlen <= n, "{}: truncated .npy header", path);
  std::string h(reinterpret_cast<const char*>(p + hoff), hlen);
  std::smatch m;
  RLX_CHECK(std::regex_search(h, m, std::regex("'descr':\\s*'([^']+)'")), "{}: no descr", path);
  std::string descr = m[1];
  RLX_CHECK(h.find("'fortran_order': False") != std::string::npos,
            "{}: Fortran-order arrays are not supported", path);
  RLX_CHECK(std::regex_search(h, m, std::regex("'shape':\\s*\\(([^)]*)\\)")), "{}: no shape", path);
  Shape shape;
  std::string dims = m[1];
  std::regex num("\\d+");
  for (auto it = std::sregex_iterator(dims.begin(), dims.end(), num); it != std::sregex_iterator();
       ++it)
    shape.push_back(std::stoll(it->str()));
  DType dt = DType::F32;
  bool found = false;
  for (DType t : {DType::F32, DType::F16, DType::F64, DType::I8, DType::I16, DType::I32, DType::I64,
                  DType::U8, DType::U16, DType::U32, DType::U64, DType::Bool})
    if (descr == descr_of(t)) dt = t, found = true;
  RLX_CHECK(found, "{}: unsupported .npy dtype '{}'", path, descr);
  Tensor t = Tensor::empty(dt, shape);
  RLX_CHECK(hoff + hlen + size_t(t.nbytes()) <= n, "{}: truncated .npy data", path);
  std::memcpy(t.data(), p + hoff + hlen, size_t(t.nbytes()));
  return t;
}

}  // namespace rlx::io
