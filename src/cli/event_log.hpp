#pragma once
// Where the herd tool writes the pool's event log (events.hpp):
// `--log-format json` one JSON object per line, `--log-format text` one
// readable line per event; on stderr, or appended to `--log-file FILE`.

#include "cli/args.hpp"

#include <herd/events.hpp>

#include <cstdio>
#include <string>

namespace herd::cli {

class event_log {
public:
    /// From --log-format (absent: no log) and --log-file (absent: stderr).
    /// Throws std::invalid_argument for a format other than json or text,
    /// or a file that cannot be opened for appending.
    explicit event_log(const args& a);
    ~event_log();
    event_log(const event_log&) = delete;
    event_log& operator=(const event_log&) = delete;

    /// For pool_config::on_event: writes and flushes each event; empty when
    /// no log was asked for. Valid while this object lives.
    event_callback callback();

    /// The options this reads, for args::allow_only.
    static constexpr const char* options[] = {"log-format", "log-file"};

private:
    void write(const event& e);

    std::FILE* out_ = nullptr;
    bool owned_ = false;
    bool json_ = false;
};

} // namespace herd::cli
