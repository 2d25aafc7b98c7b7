#include <herd/pool_config.hpp>

#include <cstdlib>

namespace herd {

std::vector<std::string> pool_config::parse_node_list(std::string_view text) {
    std::vector<std::string> out;
    std::size_t i = 0;
    while (i < text.size()) {
        auto end = text.find_first_of(", \t\n", i);
        if (end == std::string_view::npos) end = text.size();
        if (end > i) out.emplace_back(text.substr(i, end - i));
        i = end + 1;
    }
    return out;
}

pool_config pool_config::from_env() {
    pool_config c;
    if (const char* nodes = std::getenv("HERD_NODES"); nodes && *nodes)
        c.nodes = parse_node_list(nodes);
    else if (const char* host = std::getenv("OLLAMA_HOST"); host && *host)
        c.nodes = {host};
    else
        c.nodes = {"http://127.0.0.1:11434"};
    if (const char* model = std::getenv("HERD_MODEL"); model && *model) c.model = model;
    if (const char* token = std::getenv("HERD_NODE_TOKEN"); token && *token)
        c.headers.push_back(std::string("Authorization: Bearer ") + token);
    if (const char* ca = std::getenv("HERD_CA_FILE"); ca && *ca) c.tls.ca_file = ca;
    return c;
}

} // namespace herd
