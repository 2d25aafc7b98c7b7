#include "cli/output_meta.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace herd::cli {
namespace fs = std::filesystem;

namespace {

const char* format_name(output_format f) { return f == output_format::f32 ? "f32le" : "jsonl"; }

std::string dimensions_text(unsigned k) {
    return k ? fmt::format("--dimensions {}", k) : std::string("no --dimensions (the model's own length)");
}

} // namespace

std::string sidecar_path(const std::string& output, output_format format) {
    return output + (format == output_format::f32 ? ".json" : ".herd.json");
}

bool read_sidecar(const std::string& output, output_format format, output_meta& found) {
    auto path = sidecar_path(output, format);
    if (!fs::exists(path)) return false;
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::invalid_argument(path + ": cannot read it");
    auto j = nlohmann::json::parse(in, nullptr, false);
    auto invalid = [&](const std::string& why) {
        return std::invalid_argument(fmt::format("{}: not a valid herd sidecar ({}); delete {} and it to start over",
                                                 path, why, output));
    };
    if (!j.is_object()) throw invalid("not a JSON object");
    auto format_it = j.find("format");
    if (format_it == j.end() || !format_it->is_string()) throw invalid("no \"format\" string");
    if (*format_it != format_name(format))
        throw invalid(fmt::format("\"format\" is {}, expected \"{}\"", format_it->dump(), format_name(format)));
    auto model = j.find("model");
    if (model == j.end() || !model->is_string() || model->get_ref<const std::string&>().empty())
        throw invalid("no \"model\" name");
    auto dims = j.find("dimensions");
    if (dims == j.end() || !dims->is_number_unsigned() || dims->get<std::uint64_t>() > 1'000'000)
        throw invalid("no \"dimensions\" count");
    found = output_meta{.format = format, .model = model->get<std::string>(),
                        .dimensions = dims->get<unsigned>(), .dim = 0};
    if (auto dim = j.find("dim"); dim != j.end()) {
        if (!dim->is_number_unsigned() || dim->get<std::uint64_t>() == 0 || dim->get<std::uint64_t>() > 1'000'000)
            throw invalid(fmt::format("\"dim\" is {}, not a row length", dim->dump()));
        found.dim = dim->get<std::size_t>();
    }
    return true;
}

void check_same_making(const std::string& output, const output_meta& found, const output_meta& wanted) {
    auto refuse = [&](const std::string& then, const std::string& now) {
        return std::invalid_argument(fmt::format(
            "{} was made with {}, this run asks for {}: resume with the same options, or write to another --output",
            output, then, now));
    };
    if (found.model != wanted.model)
        throw refuse(fmt::format("--model {}", found.model), fmt::format("--model {}", wanted.model));
    if (found.dimensions != wanted.dimensions)
        throw refuse(dimensions_text(found.dimensions), dimensions_text(wanted.dimensions));
}

void write_sidecar(const std::string& output, const output_meta& meta) {
    nlohmann::json j{{"format", format_name(meta.format)}, {"model", meta.model}, {"dimensions", meta.dimensions}};
    if (meta.dim) j["dim"] = meta.dim;
    auto path = sidecar_path(output, meta.format);
    auto temporary = path + ".tmp";
    {
        std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
        out << j.dump() << '\n';
        out.flush();
        if (!out) throw std::runtime_error("cannot write " + temporary);
    }
    std::error_code ec;
    fs::rename(temporary, path, ec);
    if (ec) throw std::runtime_error(fmt::format("cannot write {}: {}", path, ec.message()));
}

} // namespace herd::cli
