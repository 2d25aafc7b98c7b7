// The HTTP response parser herd's connections and streams use: one
// message, pipelined messages, chunked bodies with extensions and trailers,
// fed in random pieces (see http_harness.hpp).
#include "http_harness.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    herd::fuzz::check_parser(herd::http::message_kind::response, data, size);
    return 0;
}
