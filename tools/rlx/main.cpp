// rlx: one binary, many subcommands. stdout carries results; stderr carries logs.
// Exit codes: 0 ok, 1 user error (bad flag/file/input), 2 internal error.
#include <cstdio>
#include <exception>
#include <map>

#include "commands.h"
#include "rlx/core/error.h"

int main(int argc, char** argv) {
  CLI::App app{"rlx: run neural-network checkpoints (safetensors, GGUF) on CPU and CUDA"};
  app.set_version_flag("--version", std::string("rlx ") + RLX_VERSION);
  app.require_subcommand(1);
  std::map<CLI::App*, rlx::cli::Runner> runners;
  auto add = [&](rlx::cli::Runner (*fn)(CLI::App&)) {
    size_t before = app.get_subcommands({}).size();
    rlx::cli::Runner r = fn(app);
    runners[app.get_subcommands({})[before]] = r;
  };
  add(rlx::cli::add_inspect);
  add(rlx::cli::add_vad);
  add(rlx::cli::add_run);
  add(rlx::cli::add_tokenize);
  add(rlx::cli::add_check);
  add(rlx::cli::add_quantize);
  add(rlx::cli::add_bench);
  add(rlx::cli::add_synth);
  app.add_subcommand("help", "Show help for rlx or a subcommand")->callback([&]() {
    std::fputs(app.help().c_str(), stdout);
    std::exit(0);
  });
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return 1;
  }
  try {
    for (auto& [cmd, run] : runners)
      if (cmd->parsed()) return run();
    return 1;
  } catch (const rlx::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "internal error: %s\n", e.what());
    return 2;
  }
}
