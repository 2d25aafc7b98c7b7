// Resuming `herd embed`: an existing output and its sidecar, both fuzzed,
// read back by resume_output. It either refuses with std::invalid_argument
// (naming the file) or returns an index whose ids are all in what is left
// of the output, and leaves the output cut to whole records.
#include "http_harness.hpp"

#include "cli/corpus_io.hpp"

#include <filesystem>
#include <fstream>
#include <unistd.h>

namespace fs = std::filesystem;

namespace {

void write_file(const std::string& path, std::string_view bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}

const std::string& scratch() {
    static const std::string dir = [] {
        auto base = fs::exists("/dev/shm") ? fs::path("/dev/shm") : fs::temp_directory_path();
        auto d = base / ("herd-fuzz-resume-" + std::to_string(::getpid()));
        fs::create_directories(d);
        return d.string();
    }();
    return dir;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    FuzzedDataProvider in(data, size);
    bool f32 = in.ConsumeBool();
    herd::cli::output_meta wanted{.format = f32 ? herd::cli::output_format::f32 : herd::cli::output_format::jsonl,
                                  .model = "m", .dimensions = in.ConsumeIntegralInRange<unsigned>(0, 2), .dim = 0};
    std::string output = scratch() + "/out";
    for (auto* suffix : {"", ".ids", ".json", ".herd.json"}) fs::remove(output + suffix);
    auto sidecar = in.ConsumeRandomLengthString(256);
    if (!sidecar.empty()) write_file(herd::cli::sidecar_path(output, wanted.format), sidecar);
    if (f32) write_file(output + ".ids", in.ConsumeRandomLengthString(1024));
    if (in.ConsumeBool()) write_file(output, in.ConsumeRemainingBytesAsString());
    try {
        auto done = herd::cli::resume_output(output, wanted);
        if (!fs::exists(output)) return 0;
        auto kept = read_file(output);
        if (!f32) {
            HERD_FUZZ_CHECK(kept.empty() || kept.back() == '\n');
        } else {
            HERD_FUZZ_CHECK(wanted.dim == 0 ? kept.empty() : kept.size() % (wanted.dim * sizeof(float)) == 0);
            std::size_t rows = wanted.dim ? kept.size() / (wanted.dim * sizeof(float)) : 0;
            auto ids = read_file(output + ".ids");
            HERD_FUZZ_CHECK(static_cast<std::size_t>(std::count(ids.begin(), ids.end(), '\n')) == rows);
        }
        (void)done;
    } catch (const std::invalid_argument& e) {
        HERD_FUZZ_CHECK(std::string_view(e.what()).find(output) != std::string_view::npos);
    }
    return 0;
}
