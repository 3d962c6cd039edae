// Subcommands of the `rlx` binary. Each adds itself to the CLI11 app and returns the
// function that runs it once the arguments are parsed.
#pragma once
#include <CLI/CLI.hpp>

#include <functional>

namespace rlx::cli {

using Runner = std::function<int()>;

Runner add_inspect(CLI::App& app);
Runner add_vad(CLI::App& app);
Runner add_run(CLI::App& app);
Runner add_tokenize(CLI::App& app);
Runner add_check(CLI::App& app);
Runner add_quantize(CLI::App& app);
Runner add_bench(CLI::App& app);
Runner add_synth(CLI::App& app);

// Shared flags, spelled the same in every subcommand (CONVENTIONS.md).
struct CommonFlags {
  int threads = 0;
  bool json = false;
  bool quiet = false;
};
void add_threads_flag(CLI::App& cmd, int& threads);

}  // namespace rlx::cli
