#pragma once
// The herd tool's subcommands. Each returns the process exit code:
// 0 success, 1 failure of the nodes, 2 bad usage or bad input.

#include "cli/args.hpp"

namespace herd::cli {

int embed_command(const args& a);
int demo_command(const args& a);
int merge_command(const args& a);
/// herd status: exit 0 when at least one node answered its probe, else 1.
int status_command(const args& a);
int serve_command(const args& a);

/// Prints a herd::error or other exception as the tool's error message.
void print_error(const std::exception& e);

} // namespace herd::cli
