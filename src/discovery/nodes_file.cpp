#include <herd/discovery/nodes_file.hpp>
#include <herd/http/url.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <sys/stat.h>

namespace herd {

namespace {

failure bad(std::string what) { return failure{errc::protocol_error, std::move(what)}; }

// One JSON entry: a URL string or an object with "url" and settings.
failure parse_entry(const nlohmann::json& e, std::size_t i, found_node& out) {
    std::string api = "ollama";
    if (e.is_string()) {
        out.url = e.get<std::string>();
    } else if (e.is_object()) {
        for (auto& [key, value] : e.items()) {
            bool ok = true;
            if (key == "url" && value.is_string()) out.url = value.get<std::string>();
            else if (key == "api" && (value == "openai" || value == "ollama")) api = value.get<std::string>();
            else if (key == "connections" && value.is_number_unsigned() && value.get<std::size_t>() > 0)
                out.connections = value.get<std::size_t>();
            else if (key == "pipeline_depth" && value.is_number_unsigned() && value.get<std::size_t>() > 0)
                out.pipeline_depth = value.get<std::size_t>();
            else if (key == "max_concurrency" && value.is_number() && value.get<double>() >= 1)
                out.max_concurrency = value.get<double>();
            else ok = false;
            if (!ok) return bad(fmt::format("node {}: field '{}' is unknown or not a valid value", i, key));
        }
    } else {
        return bad(fmt::format("node {}: expected a URL string or an object", i));
    }
    if (!http::url::parse(out.url)) return bad(fmt::format("node {}: not a node URL: '{}'", i, out.url));
    bool openai_url = http::url::parse(out.url)->api == http::api_kind::openai;
    if (api == "ollama" && openai_url && e.contains("api"))
        return bad(fmt::format("node {}: \"api\": \"ollama\" with an openai+ URL", i));
    if (api == "openai" && !openai_url)
        out.url = "openai+" + (out.url.find("://") == std::string::npos ? "http://" + out.url : out.url);
    return {};
}

result<std::vector<found_node>> parse_json(std::string_view text) {
    result<std::vector<found_node>> r;
    auto j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded()) {
        r.fail = bad("not valid JSON");
        return r;
    }
    if (j.is_object() && j.size() == 1 && j.contains("nodes")) j = j["nodes"];
    if (!j.is_array()) {
        r.fail = bad("expected an array of nodes or {\"nodes\": [...]}");
        return r;
    }
    for (std::size_t i = 0; i < j.size(); ++i) {
        found_node n;
        if ((r.fail = parse_entry(j[i], i, n))) {
            r.value.clear();
            return r;
        }
        r.value.push_back(std::move(n));
    }
    return r;
}

} // namespace

result<std::vector<found_node>> parse_nodes_file(std::string_view text) {
    auto first = text.find_first_not_of(" \t\r\n");
    if (first != std::string_view::npos && (text[first] == '[' || text[first] == '{')) return parse_json(text);
    result<std::vector<found_node>> r;
    std::size_t line_no = 0, pos = 0;
    while (pos < text.size()) {
        auto end = text.find('\n', pos);
        if (end == std::string_view::npos) end = text.size();
        auto line = text.substr(pos, end - pos);
        pos = end + 1;
        ++line_no;
        if (auto hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
        auto b = line.find_first_not_of(" \t\r");
        if (b == std::string_view::npos) continue;
        line = line.substr(b, line.find_last_not_of(" \t\r") + 1 - b);
        if (!http::url::parse(line)) {
            r.fail = bad(fmt::format("line {}: not a node URL: '{}'", line_no, line));
            r.value.clear();
            return r;
        }
        r.value.push_back(found_node{std::string(line)});
    }
    return r;
}

nodes_file_source::nodes_file_source(std::string path, duration poll) : path_(std::move(path)), poll_(poll) {}

awaitable<result<std::vector<found_node>>> nodes_file_source::list() {
    result<std::vector<found_node>> r;
    struct stat st {};
    if (::stat(path_.c_str(), &st) != 0) {
        r.fail = bad(fmt::format("{}: cannot read: {}", path_, std::strerror(errno)));
        co_return r;
    }
    std::tuple<long long, long long, unsigned long long> now{
        static_cast<long long>(st.st_mtim.tv_sec) * 1000000000LL + st.st_mtim.tv_nsec,
        static_cast<long long>(st.st_size), static_cast<unsigned long long>(st.st_ino)};
    if (now == seen_) {
        r.value = last_;
        co_return r;
    }
    std::ifstream in(path_, std::ios::binary);
    std::stringstream text;
    if (in.is_open()) text << in.rdbuf();
    if (!in.is_open() || in.bad()) {
        r.fail = bad(fmt::format("{}: cannot read", path_));
        co_return r;
    }
    r = parse_nodes_file(text.str());
    if (r.fail) {
        r.fail.message = path_ + ": " + r.fail.message;
        co_return r;
    }
    seen_ = now;
    last_ = r.value;
    co_return r;
}

} // namespace herd
