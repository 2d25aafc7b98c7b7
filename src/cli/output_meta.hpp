#pragma once
// What an output of `herd embed` was made with, kept next to it so that a
// resumed run never appends vectors of another model or size.
//
// jsonl: FILE.herd.json (a sidecar, so every line of FILE stays a record
// for its consumers); f32: FILE.json, which also holds the row length.
// Both are one JSON object:
//   {"format": "jsonl"|"f32le", "model": M, "dimensions": K, "dim": D}
// where K is --dimensions as asked (0: the model's own length) and D the
// length of the rows written (f32 only; absent until the first row).

#include <cstddef>
#include <string>

namespace herd::cli {

enum class output_format { jsonl, f32 };

struct output_meta {
    output_format format = output_format::jsonl;
    std::string model;
    unsigned dimensions = 0; ///< as asked; 0: the model's own
    std::size_t dim = 0;     ///< row length written (f32); 0: none written yet
};

/// FILE.herd.json for jsonl, FILE.json for f32.
std::string sidecar_path(const std::string& output, output_format format);

/// Reads the sidecar of `output`. Returns false when there is none. Throws
/// std::invalid_argument naming the file when it is unreadable, not JSON,
/// of the other format, or has a missing, mistyped or zero field.
bool read_sidecar(const std::string& output, output_format format, output_meta& found);

/// Throws std::invalid_argument, naming both values, when `found` (what
/// `output` was made with) differs from `wanted` in model or dimensions.
void check_same_making(const std::string& output, const output_meta& found, const output_meta& wanted);

/// Writes the sidecar of `output` (to a temporary file, then renamed, so a
/// kill never leaves half of one). Throws std::runtime_error on failure.
void write_sidecar(const std::string& output, const output_meta& meta);

} // namespace herd::cli
