// Node addresses (--nodes, HERD_NODES, OLLAMA_HOST): url::parse never
// crashes, a parsed host holds no byte that could break the Host header,
// and what str() prints parses back to the same address.
#include "http_harness.hpp"

#include <herd/http/url.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    auto u = herd::http::url::parse(text);
    if (!u) return 0;
    HERD_FUZZ_CHECK(!u->host.empty() && u->port != 0);
    for (unsigned char c : u->host) HERD_FUZZ_CHECK(c > 0x20 && c < 0x7f && c != '/' && c != '[' && c != ']');
    auto again = herd::http::url::parse(u->str());
    HERD_FUZZ_CHECK(again && again->host == u->host && again->port == u->port);
    return 0;
}
