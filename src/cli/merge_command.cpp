// herd merge: shard outputs of `herd embed --shard i/n`, in shard order,
// into one output byte-identical to a single `herd embed` run.
#include "cli/commands.hpp"
#include "cli/output_meta.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>

namespace herd::cli {
namespace fs = std::filesystem;

namespace {

// Appends the whole of `from` to `to`; false when `from` cannot be read.
bool append_file(std::ofstream& to, const std::string& from) {
    std::ifstream in(from, std::ios::binary);
    if (!in) return false;
    if (fs::file_size(from) > 0) to << in.rdbuf();
    return true;
}

// The last byte of a non-empty file is '\n' (a record was not torn).
bool ends_complete(const std::string& path) {
    auto size = fs::file_size(path);
    if (size == 0) return true;
    std::ifstream in(path, std::ios::binary);
    in.seekg(static_cast<std::streamoff>(size) - 1);
    return in.get() == '\n';
}

} // namespace

int merge_command(const args& a) {
    a.allow_only({"output", "format"});
    const auto output = a.get_or("output", "");
    if (output.empty()) throw std::invalid_argument("herd merge needs --output FILE");
    const auto& shards = a.positional();
    if (shards.empty()) throw std::invalid_argument("herd merge takes the shard outputs, in shard order");
    const auto format_name = a.get_or("format", "jsonl");
    if (format_name != "jsonl" && format_name != "f32")
        throw std::invalid_argument("--format is jsonl or f32, not '" + format_name + "'");
    const auto format = format_name == "f32" ? output_format::f32 : output_format::jsonl;

    // Every shard made by herd with the same model and dimensions, and
    // complete to its last record (a torn one means the shard is unfinished).
    output_meta merged;
    for (const auto& shard : shards) {
        if (shard == output) throw std::invalid_argument("--output " + output + " is also a shard");
        output_meta meta;
        if (!fs::exists(shard) || !read_sidecar(shard, format, meta))
            throw std::invalid_argument(fmt::format("{} or its {} is missing: not a herd embed output", shard,
                                                    sidecar_path(shard, format)));
        if (&shard == &shards.front()) merged = meta;
        else check_same_making(shard, meta, merged);
        if (meta.dim && merged.dim && meta.dim != merged.dim)
            throw std::invalid_argument(fmt::format("{} holds rows of {} floats, {} of {}", shard, meta.dim,
                                                    shards.front(), merged.dim));
        if (!merged.dim) merged.dim = meta.dim;
        bool torn = format == output_format::jsonl
                        ? !ends_complete(shard)
                        : !ends_complete(shard + ".ids") ||
                              (meta.dim && fs::file_size(shard) % (meta.dim * sizeof(float)) != 0);
        if (torn) throw std::invalid_argument(shard + " ends in a torn record: run its shard again to finish it");
    }

    std::ofstream data(output, std::ios::binary | std::ios::trunc);
    std::ofstream ids;
    if (format == output_format::f32) ids.open(output + ".ids", std::ios::binary | std::ios::trunc);
    for (const auto& shard : shards) {
        if (!append_file(data, shard) || (format == output_format::f32 && !append_file(ids, shard + ".ids")))
            throw std::runtime_error("cannot read " + shard);
    }
    data.flush();
    ids.flush();
    if (!data || (format == output_format::f32 && !ids)) throw std::runtime_error("cannot write " + output);
    write_sidecar(output, merged);
    return 0;
}

} // namespace herd::cli
