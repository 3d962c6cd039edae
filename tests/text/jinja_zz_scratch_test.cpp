#include <gtest/gtest.h>
#include <chrono>
#include "rlx/core/error.h"
#include "rlx/text/jinja.h"
static void timeit(const std::string& t) {
  auto t0 = std::chrono::steady_clock::now();
  std::string r;
  try { r = rlx::text::ChatTemplate(t).render(nlohmann::ordered_json::object()); } catch (const rlx::Error& e) { r = e.what(); }
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  std::printf("%8.1f ms  %s -> %s\n", ms, t.substr(0, 60).c_str(), r.substr(0, 100).c_str());
}
TEST(Scratch, Time) {
  timeit("{{ " + std::string(5000, '(') + "1 }}");
  std::string blocks; for (int i = 0; i < 1000; ++i) blocks += "{% if true %}";
  timeit(blocks);
  timeit("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}");
  timeit("{% for i in range(1000000) %}{% for j in range(1000000) %}{% endfor %}{% endfor %}");
  timeit("{{ range(10000000000) }}");
  timeit("{{ 'x' * 10000000000 }}");
  timeit("{% set l = [] %}{% do l.append(l) %}{{ l }}");
}
