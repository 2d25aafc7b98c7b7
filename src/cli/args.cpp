#include "cli/args.hpp"

#include <algorithm>
#include <charconv>

namespace herd::cli {

args::args(int argc, char** argv, int first, std::vector<std::string> flags) {
    for (int i = first; i < argc; ++i) {
        std::string a = argv[i];
        if (a.size() < 3 || a.rfind("--", 0) != 0) {
            positional_.push_back(a);
            continue;
        }
        std::string name = a.substr(2);
        if (auto eq = name.find('='); eq != std::string::npos) {
            values_[name.substr(0, eq)] = name.substr(eq + 1);
            all_[name.substr(0, eq)].push_back(name.substr(eq + 1));
        } else if (std::find(flags.begin(), flags.end(), name) != flags.end()) {
            values_[name] = "1";
        } else {
            if (i + 1 >= argc) throw std::invalid_argument("--" + name + " needs a value");
            values_[name] = argv[++i];
            all_[name].push_back(values_[name]);
        }
    }
}

std::optional<std::string> args::get(const std::string& name) const {
    auto it = values_.find(name);
    if (it == values_.end()) return std::nullopt;
    return it->second;
}

std::vector<std::string> args::all(const std::string& name) const {
    auto it = all_.find(name);
    return it == all_.end() ? std::vector<std::string>{} : it->second;
}

std::string args::get_or(const std::string& name, std::string fallback) const {
    return get(name).value_or(std::move(fallback));
}

std::size_t args::number_or(const std::string& name, std::size_t fallback) const {
    auto v = get(name);
    if (!v) return fallback;
    std::size_t n = 0;
    auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
    if (ec != std::errc{} || p != v->data() + v->size())
        throw std::invalid_argument("--" + name + " takes a whole number, not '" + *v + "'");
    return n;
}

double args::real_or(const std::string& name, double fallback) const {
    auto v = get(name);
    if (!v) return fallback;
    try {
        std::size_t used = 0;
        double d = std::stod(*v, &used);
        if (used == v->size()) return d;
    } catch (const std::exception&) {
    }
    throw std::invalid_argument("--" + name + " takes a number, not '" + *v + "'");
}

bool args::flag(const std::string& name) const { return values_.count(name) != 0; }

void args::allow_only(const std::vector<std::string>& known) const {
    for (const auto& [k, v] : values_)
        if (std::find(known.begin(), known.end(), k) == known.end())
            throw std::invalid_argument("unknown option --" + k);
}

} // namespace herd::cli
