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
// per line in OUTPUT.ids. What made it (model, dimensions, format) is in a
// sidecar (output_meta.hpp).
//
// Resume: an existing output is read back first. It must have been made
// with the same model and dimensions; a torn last record (a killed run) is
// cut off, and inputs whose ids are present are skipped, so a resumed run
// appends exactly what is missing.

#include "cli/output_meta.hpp"

#include <herd/batch.hpp>

#include <cstdint>
#include <deque>
#include <map>
#include <fstream>
#include <istream>
#include <string>
#include <vector>

namespace herd::cli {

enum class input_format { automatic, jsonl, lines };

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

/// Reads the existing output at `path` (if any), checks that it was made
/// as `wanted` asks, cuts a torn tail, and returns the ids it holds; sets
/// wanted.dim to the row length already written (f32). Throws
/// std::invalid_argument (naming the files and values) when the output was
/// made with another model or dimensions, has no or an invalid sidecar, or
/// holds lines herd did not write.
done_index resume_output(const std::string& path, output_meta& wanted);

struct input_error {
    std::size_t line; ///< 1-based
    std::string reason;
};

class corpus_reader : public batch_source {
public:
    corpus_reader(std::istream& in, input_format format, std::string id_field, std::string text_field,
                  const done_index& skip);

    std::size_t read(std::vector<std::string>& texts, std::size_t max) override;

    /// Reads only the lines [first, end) of the input (numbered from 0,
    /// blank ones included; ids and error line numbers stay the whole
    /// file's). Lines before `first` still decide an automatic format, as
    /// the whole file's first line does. Call before read().
    void only_lines(std::size_t first, std::size_t end) {
        first_line_ = first;
        end_line_ = end;
    }

    /// JSON text of the id of input `index` (numbered from 0 over all
    /// reads, skipped lines not counted). Throws std::out_of_range for an
    /// input not read yet or released.
    const std::string& id(std::size_t index) const;
    /// Forgets the ids of inputs before `end`.
    void release(std::size_t end);
    const std::vector<input_error>& errors() const noexcept { return errors_; }
    std::size_t skipped() const noexcept { return skipped_; }
    std::size_t lines() const noexcept { return line_; }

private:
    bool parse(const std::string& line, std::string& id, std::string& text);
    void detect_format(const std::string& line);

    std::istream& in_;
    input_format format_;
    std::string id_field_, text_field_;
    const done_index& skip_;
    std::deque<std::string> ids_; // of inputs ids_base_, ids_base_ + 1, ...
    std::size_t ids_base_ = 0;
    std::vector<input_error> errors_;
    std::size_t line_ = 0;
    std::size_t skipped_ = 0;
    std::size_t first_line_ = 0;
    std::size_t end_line_ = static_cast<std::size_t>(-1);
};

/// Writes each input's vector at its place: input i is the i-th record
/// appended by this run, whatever order write() is called in (rows that
/// arrive ahead of a gap wait in memory). Ids come from the reader.
class embedding_writer : public batch_sink {
public:
    /// Appends to `path` (after resume_output() cut it). With `sidecar`,
    /// records `meta` next to it first (see output_meta.hpp).
    embedding_writer(const std::string& path, output_meta meta, corpus_reader& ids, bool sidecar);
    /// Throws std::logic_error for rows written twice, std::runtime_error
    /// when the file cannot be written or an f32 row length changes.
    void write(std::size_t first_index, const matrix& rows) override;
    std::size_t written() const noexcept { return written_; }

private:
    void append(std::size_t first_index, const matrix& rows);

    std::string path_;
    output_meta meta_;
    corpus_reader& ids_;
    bool sidecar_;
    std::ofstream data_;
    std::ofstream id_file_;
    std::string buffer_;
    std::map<std::size_t, matrix> early_; // rows ahead of written_, by first index
    std::size_t written_ = 0;
};

/// Lines in a regular file (for the progress total); 0 when unknown.
std::size_t count_lines(const std::string& path);

/// Shard `index` of `count` of a file of `lines` lines: the contiguous
/// lines [first, end), sizes differing by at most one. The same for every
/// run, so shard outputs concatenated in shard order are the whole
/// output in input order (`herd merge`).
struct line_range {
    std::size_t first = 0, end = 0;
};
line_range shard_lines(std::size_t lines, std::size_t index, std::size_t count);

/// Lines as corpus_reader counts them: a last line without '\n' counts.
/// Throws std::invalid_argument when `path` is not a readable regular file.
std::size_t count_input_lines(const std::string& path);

} // namespace herd::cli
