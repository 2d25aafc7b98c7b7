#include "cli/corpus_io.hpp"

#include <herd/sim/embedding_rule.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>

namespace herd::cli {
namespace fs = std::filesystem;

void done_index::add(std::string_view id_json) { hashes_.push_back(sim::fnv1a64(id_json)); }
void done_index::seal() { std::sort(hashes_.begin(), hashes_.end()); }
bool done_index::contains(std::string_view id_json) const {
    return std::binary_search(hashes_.begin(), hashes_.end(), sim::fnv1a64(id_json));
}

namespace {

// Lines of a text file; `complete_bytes` ends after the last '\n'.
template <typename F>
void for_each_complete_line(const std::string& path, std::uintmax_t& complete_bytes, F&& f) {
    std::ifstream in(path, std::ios::binary);
    std::string line;
    complete_bytes = 0;
    while (std::getline(in, line)) {
        if (in.eof()) break; // no '\n' after it: torn
        complete_bytes += line.size() + 1;
        f(line);
    }
}

// The id of a line this tool wrote: {"id":<id>,"embedding":[...]}. An
// unescaped `,"embedding":[` cannot occur inside a JSON string, so the
// first one ends the id.
std::string_view id_of_record(std::string_view line) {
    constexpr std::string_view head = "{\"id\":", tail = ",\"embedding\":[";
    if (line.rfind(head, 0) != 0 || line.size() < 2 || line.substr(line.size() - 2) != "]}") return {};
    auto end = line.find(tail);
    if (end == std::string_view::npos) return {};
    return line.substr(head.size(), end - head.size());
}

} // namespace

namespace {

// An output without a sidecar is only taken over when it holds nothing.
void require_empty(const std::string& path, output_format format) {
    if (!fs::exists(path) || fs::file_size(path) == 0) return;
    auto other = format == output_format::f32 ? output_format::jsonl : output_format::f32;
    if (fs::exists(sidecar_path(path, other)))
        throw std::invalid_argument(fmt::format("{} was written with --format {}, not {}", path,
                                                other == output_format::f32 ? "f32" : "jsonl",
                                                format == output_format::f32 ? "f32" : "jsonl"));
    throw std::invalid_argument(fmt::format("{} has no {}: it was not written by herd (or the sidecar was "
                                            "deleted), so its model is unknown; write to another --output",
                                            path, sidecar_path(path, format)));
}

} // namespace

done_index resume_output(const std::string& path, output_meta& wanted) {
    done_index done;
    if (!fs::exists(path)) {
        // Nothing to resume: a stale sidecar or id list belongs to no rows
        // (the writer replaces the sidecar).
        if (wanted.format == output_format::f32) fs::remove(path + ".ids");
        return done;
    }
    output_meta found;
    if (!read_sidecar(path, wanted.format, found)) {
        require_empty(path, wanted.format);
        if (wanted.format == output_format::f32) fs::remove(path + ".ids");
        return done;
    }
    check_same_making(path, found, wanted);
    wanted.dim = found.dim;
    std::uintmax_t good = 0;
    if (wanted.format == output_format::jsonl) {
        std::size_t line_no = 0;
        for_each_complete_line(path, good, [&](const std::string& line) {
            ++line_no;
            auto id = id_of_record(line);
            if (id.empty())
                throw std::invalid_argument(fmt::format("{}:{}: not a record written by herd", path, line_no));
            done.add(id);
        });
        fs::resize_file(path, good);
    } else {
        std::uintmax_t ids_good = 0;
        std::vector<std::string> ids;
        for_each_complete_line(path + ".ids", ids_good, [&](const std::string& line) { ids.push_back(line); });
        std::size_t rows = 0;
        if (found.dim) {
            auto row_bytes = found.dim * sizeof(float);
            rows = std::min(static_cast<std::size_t>(fs::file_size(path) / row_bytes), ids.size());
            fs::resize_file(path, rows * row_bytes);
        } else if (fs::file_size(path) != 0) {
            throw std::invalid_argument(sidecar_path(path, wanted.format) + ": no \"dim\" but " + path +
                                        " holds rows; delete both to start over");
        }
        // Keep exactly the ids of complete rows.
        ids.resize(rows);
        std::ofstream rewrite(path + ".ids", std::ios::trunc);
        for (auto& id : ids) {
            rewrite << id << '\n';
            done.add(id);
        }
    }
    done.seal();
    return done;
}

corpus_reader::corpus_reader(std::istream& in, input_format format, std::string id_field, std::string text_field,
                             const done_index& skip)
    : in_(in), format_(format), id_field_(std::move(id_field)), text_field_(std::move(text_field)), skip_(skip) {}

void corpus_reader::detect_format(const std::string& line) {
    if (format_ == input_format::automatic) format_ = line.front() == '{' ? input_format::jsonl : input_format::lines;
}

bool corpus_reader::parse(const std::string& line, std::string& id, std::string& text) {
    detect_format(line);
    if (format_ == input_format::lines) {
        id = std::to_string(line_ - 1);
        text = line;
        return true;
    }
    auto j = nlohmann::json::parse(line, nullptr, false);
    auto fail = [&](std::string why) {
        errors_.push_back({line_, std::move(why)});
        return false;
    };
    if (j.is_discarded()) return fail("not valid JSON");
    if (!j.is_object()) return fail("not a JSON object");
    auto t = j.find(text_field_);
    if (t == j.end()) return fail("no \"" + text_field_ + "\" field");
    if (!t->is_string()) return fail("\"" + text_field_ + "\" is not a string");
    auto i = j.find(id_field_);
    if (i == j.end()) id = std::to_string(line_ - 1);
    else if (i->is_string() || i->is_number_integer() || i->is_number_unsigned()) id = i->dump();
    else return fail("\"" + id_field_ + "\" is not a string or an integer");
    text = t->get<std::string>();
    return true;
}

std::size_t corpus_reader::read(std::vector<std::string>& texts, std::size_t max) {
    std::size_t got = 0;
    std::string line, id, text;
    while (got < max && line_ < end_line_ && std::getline(in_, line)) {
        ++line_;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.empty()) continue;
        if (line_ <= first_line_) { // before this shard
            detect_format(line);
            continue;
        }
        if (!parse(line, id, text)) continue;
        if (skip_.contains(id)) {
            ++skipped_;
            continue;
        }
        ids_.push_back(std::move(id));
        texts.push_back(std::move(text));
        ++got;
    }
    return got;
}

const std::string& corpus_reader::id(std::size_t index) const {
    if (index < ids_base_ || index - ids_base_ >= ids_.size())
        throw std::out_of_range(fmt::format("no id for input {} (ids held: {} to {})", index, ids_base_,
                                            ids_base_ + ids_.size()));
    return ids_[index - ids_base_];
}

void corpus_reader::release(std::size_t end) {
    while (ids_base_ < end && !ids_.empty()) {
        ids_.pop_front();
        ++ids_base_;
    }
}

embedding_writer::embedding_writer(const std::string& path, output_meta meta, corpus_reader& ids, bool sidecar)
    : path_(path), meta_(std::move(meta)), ids_(ids), sidecar_(sidecar) {
    if (sidecar_) write_sidecar(path_, meta_); // before any row: no row without its making
    auto mode = std::ios::binary | std::ios::app;
    data_.open(path, mode);
    if (meta_.format == output_format::f32) id_file_.open(path + ".ids", mode);
    if (!data_ || (meta_.format == output_format::f32 && !id_file_))
        throw std::runtime_error("cannot write " + path);
}

void embedding_writer::write(std::size_t first_index, const matrix& rows) {
    if (first_index < written_ || early_.count(first_index))
        throw std::logic_error(fmt::format("rows from input {} written twice", first_index));
    if (first_index > written_) {
        early_.emplace(first_index, rows);
        return;
    }
    append(first_index, rows);
    for (auto it = early_.begin(); it != early_.end() && it->first == written_; it = early_.erase(it))
        append(it->first, it->second);
}

void embedding_writer::append(std::size_t first_index, const matrix& rows) {
    if (meta_.format == output_format::f32) {
        if (rows.rows() && meta_.dim != rows.dim()) {
            if (meta_.dim)
                throw std::runtime_error(fmt::format("{} holds rows of {} floats, the nodes now return {}", path_,
                                                     meta_.dim, rows.dim()));
            meta_.dim = rows.dim();
            if (sidecar_) write_sidecar(path_, meta_);
        }
        data_.write(reinterpret_cast<const char*>(rows.data()),
                    static_cast<std::streamsize>(rows.rows() * rows.dim() * sizeof(float)));
        for (std::size_t r = 0; r < rows.rows(); ++r) id_file_ << ids_.id(first_index + r) << '\n';
        data_.flush();
        id_file_.flush();
    } else {
        for (std::size_t r = 0; r < rows.rows(); ++r) {
            buffer_.clear();
            fmt::format_to(std::back_inserter(buffer_), "{{\"id\":{},\"embedding\":[{}]}}\n",
                           ids_.id(first_index + r), fmt::join(rows.row(r), ","));
            data_ << buffer_;
        }
        data_.flush();
    }
    if (!data_ || (meta_.format == output_format::f32 && !id_file_))
        throw std::runtime_error("write to " + path_ + " failed");
    written_ += rows.rows();
    ids_.release(written_);
}

std::size_t count_lines(const std::string& path) {
    if (path == "-" || !fs::is_regular_file(path)) return 0;
    std::ifstream in(path, std::ios::binary);
    std::size_t n = 0;
    char buf[1 << 16];
    while (in.read(buf, sizeof buf) || in.gcount() > 0) n += static_cast<std::size_t>(std::count(buf, buf + in.gcount(), '\n'));
    return n;
}

line_range shard_lines(std::size_t lines, std::size_t index, std::size_t count) {
    // 128-bit products: no overflow for any line count.
    auto at = [&](std::size_t i) {
        return static_cast<std::size_t>(static_cast<unsigned __int128>(lines) * i / count);
    };
    return {at(index), at(index + 1)};
}

std::size_t count_input_lines(const std::string& path) {
    if (path == "-" || !fs::is_regular_file(path)) throw std::invalid_argument("--shard needs INPUT to be a file, not " + path);
    std::size_t n = count_lines(path);
    std::ifstream in(path, std::ios::binary | std::ios::ate);
    auto size = static_cast<std::streamoff>(in.tellg());
    if (size > 0) {
        char last = 0;
        in.seekg(size - 1);
        in.get(last);
        if (last != '\n') ++n;
    }
    return n;
}

} // namespace herd::cli
