#pragma once
// The files `herd embed` reads and writes.
//
// Input: JSONL, one `{"id": ..., "text": ...}` per line (field names
// settable; an absent id becomes the line number), or plain lines whose id
// is the line number counted from 0. Malformed lines are skipped and
// reported with their line numbers.
//
// Output: JSONL `{"id": ..., "embedding": [...]}` per input, in input
// order, or `f32`: raw little-endian float32 rows in OUTPUT, the ids one
// per line in OUTPUT.ids and {"dim", "model"} in OUTPUT.json.
//
// Resume: an existing output is read back first; a torn last record (a
// killed run) is cut off, and inputs whose ids are present are skipped, so
// a resumed run appends exactly what is missing.

#include <herd/batch.hpp>

#include <cstdint>
#include <fstream>
#include <istream>
#include <string>
#include <vector>

namespace herd::cli {

enum class input_format { automatic, jsonl, lines };
enum class output_format { jsonl, f32 };

/// Ids already in the output, as hashes of their JSON text (8 bytes each,
/// so a resumed corpus of millions stays small).
class done_index {
public:
    void add(std::string_view id_json);
    void seal(); ///< sorts; call before contains()
    bool contains(std::string_view id_json) const;
    std::size_t size() const noexcept { return hashes_.size(); }

private:
    std::vector<std::uint64_t> hashes_;
};

/// Reads the existing output at `path` (if any), cuts a torn tail, and
/// returns the ids it holds. Throws std::runtime_error on an unreadable or
/// inconsistent output.
done_index resume_output(const std::string& path, output_format format);

struct input_error {
    std::size_t line; ///< 1-based
    std::string reason;
};

class corpus_reader : public batch_source {
public:
    corpus_reader(std::istream& in, input_format format, std::string id_field, std::string text_field,
                  const done_index& skip);

    std::size_t read(std::vector<std::string>& texts, std::size_t max) override;

    /// JSON text of each id of the window read last.
    const std::vector<std::string>& window_ids() const noexcept { return ids_; }
    const std::vector<input_error>& errors() const noexcept { return errors_; }
    std::size_t skipped() const noexcept { return skipped_; }
    std::size_t lines() const noexcept { return line_; }

private:
    bool parse(const std::string& line, std::string& id, std::string& text);

    std::istream& in_;
    input_format format_;
    std::string id_field_, text_field_;
    const done_index& skip_;
    std::vector<std::string> ids_;
    std::vector<input_error> errors_;
    std::size_t line_ = 0;
    std::size_t skipped_ = 0;
};

class embedding_writer : public batch_sink {
public:
    /// Appends to `path` (after resume_output() cut it).
    embedding_writer(const std::string& path, output_format format, const corpus_reader& ids, std::string model);
    void write(std::size_t first_index, const matrix& rows) override;
    std::size_t written() const noexcept { return written_; }

private:
    std::string path_;
    output_format format_;
    const corpus_reader& ids_;
    std::string model_;
    std::ofstream data_;
    std::ofstream id_file_;
    std::string buffer_;
    std::size_t written_ = 0;
};

/// Lines in a regular file (for the progress total); 0 when unknown.
std::size_t count_lines(const std::string& path);

} // namespace herd::cli
