#include "rlx/io/npy.h"

#include <cctype>
#include <cstring>

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
  // The header is a Python dict literal: {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3),
  // }
  auto field = [&](const char* key) {
    size_t k = h.find(std::string("'") + key + "'");
    RLX_CHECK(k != std::string::npos, "{}: .npy header lacks '{}'", path, key);
    size_t colon = h.find(':', k);
    RLX_CHECK(colon != std::string::npos, "{}: malformed .npy header", path);
    return h.substr(colon + 1);
  };
  std::string d = field("descr");
  size_t q0 = d.find('\''), q1 = q0 == std::string::npos ? q0 : d.find('\'', q0 + 1);
  RLX_CHECK(q1 != std::string::npos, "{}: malformed descr in .npy header", path);
  std::string descr = d.substr(q0 + 1, q1 - q0 - 1);
  RLX_CHECK(h.find("'fortran_order': False") != std::string::npos,
            "{}: Fortran-order arrays are not supported", path);
  std::string sh = field("shape");
  size_t p0 = sh.find('('), p1 = sh.find(')');
  RLX_CHECK(p0 != std::string::npos && p1 != std::string::npos && p0 < p1,
            "{}: malformed shape in .npy header", path);
  Shape shape;
  std::string dims = sh.substr(p0 + 1, p1 - p0 - 1);
  for (size_t i = 0; i < dims.size();) {
    if (!std::isdigit(static_cast<unsigned char>(dims[i]))) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < dims.size() && std::isdigit(static_cast<unsigned char>(dims[j]))) ++j;
    RLX_CHECK(j - i < 13, "{}: absurd dimension in .npy header", path);
    shape.push_back(std::stoll(dims.substr(i, j - i)));
    i = j;
  }
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
