// `xflow serve` (serve.cpp): registered by main.cpp.
#pragma once
#include <CLI/CLI.hpp>

CLI::App* add_serve_command(CLI::App& app);
int run_serve_command();
