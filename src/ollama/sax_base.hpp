#pragma once
// What the SAX decoders of embedding answers (ollama/codec.cpp,
// openai/codec.cpp) share: the first problem met (parsing stops there), the
// error text a server put in a 200 body, and nlohmann's hooks both handle
// alike. Derive publicly; nlohmann::json::sax_parse calls the hooks.

#include <herd/error.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <string>

namespace herd::ollama::detail {

class sax_base {
public:
    bool binary(nlohmann::json::binary_t&) { return false; }
    bool parse_error(std::size_t pos, const std::string&, const nlohmann::json::exception& e) {
        return fail(fmt::format("invalid JSON at byte {}: {}", pos, e.what()));
    }

protected:
    /// Records `why` (the first one wins) and returns false to stop parsing.
    bool fail(std::string why) {
        if (problem_.empty()) problem_ = std::move(why);
        return false;
    }
    /// protocol_error for a problem, else server_error with the server's
    /// text; no failure when there was neither.
    failure verdict() const {
        if (!problem_.empty()) return failure{errc::protocol_error, problem_};
        if (!error_.empty()) return failure{errc::server_error, error_};
        return {};
    }

    std::string error_; ///< the server's "error" text, set by the decoder
private:
    std::string problem_;
};

} // namespace herd::ollama::detail
