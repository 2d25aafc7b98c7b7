#pragma once
// Nodes listed in a file, watched while herd runs.
//
//   # one URL a line; '#' starts a comment
//   http://gpu-1:11434
//   10.0.0.7            # port 11434
//
// or JSON, an array (or {"nodes": [...]}) of URLs and objects with per-node
// settings:
//
//   [ "http://gpu-1:11434",
//     {"url": "http://cpu-1:11434", "connections": 1, "pipeline_depth": 4,
//      "max_concurrency": 8},
//     {"url": "http://gpu-2:8080", "api": "openai"} ]
//
// "api": "openai" marks an OpenAI-compatible server (llama-server, vLLM):
// its URL becomes "openai+http://..." (http/url.hpp); "ollama" is the
// default and cannot be combined with an "openai+" URL.
//
// Watching: list() looks at the file's modification time, size and inode
// (stat(2), no inotify: it works on every file system, NFS included) and
// reads it again only when one changed; discover() calls it every
// interval(). An editor's write-and-rename is seen like an in-place write.

#include <herd/discovery/source.hpp>

#include <chrono>
#include <string>
#include <string_view>
#include <tuple>

namespace herd {

/// Parses a nodes file's text (format above). Fails with errc::protocol_error
/// naming the line (text) or the entry (JSON) that is not a node URL, or a
/// JSON field that is unknown or mistyped. Never throws.
result<std::vector<found_node>> parse_nodes_file(std::string_view text);

class nodes_file_source final : public discovery_source {
public:
    explicit nodes_file_source(std::string path, duration poll = std::chrono::seconds(2));
    /// The file's nodes; the same list without reading when the file did not
    /// change. Fails (errc::protocol_error) when the file cannot be read or
    /// parsed: the caller keeps its previous list.
    awaitable<result<std::vector<found_node>>> list() override;
    duration interval() const override { return poll_; }
    std::string describe() const override { return "file:" + path_; }

private:
    std::string path_;
    duration poll_;
    std::tuple<long long, long long, unsigned long long> seen_{-1, -1, 0}; // mtime ns, size, inode
    std::vector<found_node> last_;
};

} // namespace herd
