// The HTTP request parser herd-sim serves with, fed in random pieces (see
// http_harness.hpp).
#include "http_harness.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    herd::fuzz::check_parser(herd::http::message_kind::request, data, size);
    return 0;
}
