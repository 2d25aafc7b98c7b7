// herd embed: a corpus file through every node, resumable.
#include "cli/commands.hpp"
#include "cli/corpus_io.hpp"
#include "cli/discover_option.hpp"
#include "cli/event_log.hpp"
#include "cli/node_args.hpp"
#include "cli/progress_view.hpp"
#include "observe/observe_server.hpp"

#include <herd/herd.hpp>

#include <fmt/format.h>

#include <charconv>
#include <iostream>
#include <optional>

namespace herd::cli {

void print_error(const std::exception& e) { fmt::print(stderr, "herd: error: {}\n", e.what()); }

namespace {

input_format parse_input_format(const std::string& s) {
    if (s == "auto") return input_format::automatic;
    if (s == "jsonl") return input_format::jsonl;
    if (s == "lines") return input_format::lines;
    throw std::invalid_argument("--input-format is auto, jsonl or lines, not '" + s + "'");
}

output_format parse_output_format(const std::string& s) {
    if (s == "jsonl") return output_format::jsonl;
    if (s == "f32") return output_format::f32;
    throw std::invalid_argument("--format is jsonl or f32, not '" + s + "'");
}

// "--shard i/n": 0 <= i < n.
std::pair<std::size_t, std::size_t> parse_shard(const std::string& s) {
    auto bad = [&] { return std::invalid_argument("--shard is i/n with 0 <= i < n (e.g. 0/4), not '" + s + "'"); };
    auto slash = s.find('/');
    if (slash == std::string::npos) throw bad();
    std::size_t i = 0, n = 0;
    auto a = std::from_chars(s.data(), s.data() + slash, i);
    auto b = std::from_chars(s.data() + slash + 1, s.data() + s.size(), n);
    if (a.ec != std::errc{} || a.ptr != s.data() + slash || b.ec != std::errc{} || b.ptr != s.data() + s.size() ||
        n == 0 || i >= n)
        throw bad();
    return {i, n};
}

void report_input_errors(const corpus_reader& reader) {
    const auto& errors = reader.errors();
    for (std::size_t i = 0; i < errors.size() && i < 20; ++i)
        fmt::print(stderr, "herd: input line {}: {}\n", errors[i].line, errors[i].reason);
    if (errors.size() > 20) fmt::print(stderr, "herd: ... and {} more malformed lines\n", errors.size() - 20);
}

} // namespace

int embed_command(const args& a) {
    auto known = node_option_names();
    known.insert(known.end(), {"output", "dimensions", "format", "input-format", "id-field", "text-field", "batch",
                               "window", "quiet", "priority", "give-up", "shard", "metrics-listen",
                               event_log::options[0], event_log::options[1]});
    for (auto& name : discover_option_names()) known.push_back(name);
    a.allow_only(known);
    if (a.positional().size() != 1) throw std::invalid_argument("herd embed takes one INPUT file (or - for stdin)");
    const std::string input = a.positional()[0];
    auto config = pool_config_from_args(a);
    if (wants_discovery(a) && !a.get("nodes")) config.nodes.clear(); // discovered, plus --nodes
    auto out_format = parse_output_format(a.get_or("format", "jsonl"));
    auto output = a.get_or("output", "");
    if (output.empty() && out_format == output_format::f32) throw std::invalid_argument("--format f32 needs --output");

    auto batch = a.number_or("batch", 64), window = a.number_or("window", 4096);
    if (batch == 0) throw std::invalid_argument("--batch takes a number from 1 (texts per request)");
    if (window == 0) throw std::invalid_argument("--window takes a number from 1 (texts held in memory)");
    output_meta meta{.format = out_format, .model = config.model,
                     .dimensions = static_cast<unsigned>(a.number_or("dimensions", 0)), .dim = 0};

    done_index done;
    if (!output.empty()) done = resume_output(output, meta);
    std::ifstream file;
    if (input != "-") {
        file.open(input, std::ios::binary);
        if (!file) throw std::invalid_argument("cannot read " + input);
    }
    std::istream& in = input == "-" ? std::cin : file;
    corpus_reader reader(in, parse_input_format(a.get_or("input-format", "auto")), a.get_or("id-field", "id"),
                         a.get_or("text-field", "text"), done);
    std::size_t total = count_lines(input);
    if (auto shard = a.get("shard")) {
        auto [index, count] = parse_shard(*shard);
        auto lines = shard_lines(count_input_lines(input), index, count);
        reader.only_lines(lines.first, lines.end);
        total = lines.end - lines.first;
    }
    embedding_writer writer(output.empty() ? "/dev/stdout" : output, meta, reader, !output.empty());

    event_log log(a);
    config.on_event = log.callback();
    asio::io_context io;
    pool p(io.get_executor(), config);
    auto discovered = start_discovery(io, p, a, a.flag("quiet"));
    std::optional<observe::observe_server> metrics; // stopped with the io_context
    if (auto where = a.get("metrics-listen")) {
        metrics.emplace(p, *where);
        auto ep = metrics->endpoint();
        // fmt, not operator+: g++ 12 warns (-Wrestrict, a false positive) on "[" + s + "]" in Release.
        auto host = ep.address().is_v6() ? fmt::format("[{}]", ep.address().to_string()) : ep.address().to_string();
        fmt::print(stderr, "herd: metrics at http://{0}:{1}/metrics, dashboard at http://{0}:{1}/dashboard\n", host,
                   ep.port());
    }
    std::vector<std::string> names;
    for (std::size_t i = 0; i < p.size(); ++i) names.push_back(p.at(i).url().authority());
    progress_view view(stderr, total > done.size() ? total - done.size() : 0, names);
    auto show = [&](const progress& pr) {
        if (!a.flag("quiet")) view.update(pr);
    };
    batch_options options{.model = config.model,
                          .priority = static_cast<int>(a.number_or("priority", 5)),
                          .dimensions = meta.dimensions,
                          .max_batch = batch,
                          .give_up_after = from_seconds(a.real_or("give-up", 10)),
                          .window = window,
                          .on_progress = show};
    batch_report report;
    std::exception_ptr failed;
    asio::co_spawn(io, p.embed_stream(reader, writer, options), [&](std::exception_ptr e, batch_report r) {
        failed = e;
        report = std::move(r);
        io.stop(); // the pool may still probe an ejected node
    });
    io.run();
    view.finish();
    if (failed) std::rethrow_exception(failed);
    report_input_errors(reader);
    if (report.fail) {
        fmt::print(stderr, "herd: error: {}\n", report.fail.describe());
        for (const auto& c : report.fail.causes) fmt::print(stderr, "  {}: {}\n", c.node, c.message);
        fmt::print(stderr, "herd: {} written; run the same command again to resume\n", writer.written());
        return 1;
    }
    fmt::print(stderr, "herd: embedded {} texts in {:.2f} s ({:.0f}/s){}\n", report.inputs, report.seconds,
               report.seconds > 0 ? static_cast<double>(report.inputs) / report.seconds : 0.0,
               reader.skipped() ? fmt::format(", skipped {} already in {}", reader.skipped(), output) : "");
    return reader.errors().empty() ? 0 : 2;
}

} // namespace herd::cli
