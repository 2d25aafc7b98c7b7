#include "cli/node_args.hpp"

namespace herd::cli {

const std::vector<std::string>& node_option_names() {
    static const std::vector<std::string> names{"nodes", "model", "ca-file", "header", "insecure"};
    return names;
}

pool_config pool_config_from_args(const args& a) {
    auto config = pool_config::from_env();
    if (auto nodes = a.get("nodes")) config.nodes = pool_config::parse_node_list(*nodes);
    if (auto model = a.get("model")) config.model = *model;
    if (auto ca = a.get("ca-file")) config.tls.ca_file = *ca;
    if (a.flag("insecure")) config.tls.verify = false;
    if (auto header = a.get("header")) {
        if (header->find(':') == std::string::npos || header->find_first_of("\r\n") != std::string::npos)
            throw std::invalid_argument("--header takes one 'Name: value' line");
        config.headers.push_back(*header);
    }
    return config;
}

} // namespace herd::cli
