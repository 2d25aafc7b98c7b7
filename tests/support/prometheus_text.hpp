#pragma once
// A strict reader of Prometheus text exposition (format 0.0.4) for tests:
// every line must be a HELP, a TYPE or a sample of a declared family, label
// values are unescaped, values parsed. Problems are collected, not thrown.

#include <cmath>
#include <map>
#include <regex>
#include <string>
#include <vector>

namespace herd::test {

struct prom_sample {
    std::string name;
    std::map<std::string, std::string> labels; // unescaped values
    double value = 0;
};

struct prom_text {
    std::map<std::string, std::string> types; // family -> counter/gauge/histogram
    std::vector<prom_sample> samples;
    std::vector<std::string> problems;

    /// The samples named `name` whose labels include `with`.
    std::vector<prom_sample> find(const std::string& name, const std::map<std::string, std::string>& with = {}) const {
        std::vector<prom_sample> out;
        for (const auto& s : samples) {
            if (s.name != name) continue;
            bool all = true;
            for (const auto& [k, v] : with) all = all && s.labels.count(k) && s.labels.at(k) == v;
            if (all) out.push_back(s);
        }
        return out;
    }
};

// The family a sample belongs to: histogram samples end in _bucket/_sum/_count.
inline std::string prom_family(const prom_text& t, const std::string& name) {
    if (t.types.count(name)) return name;
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
        std::string s(suffix);
        if (name.size() > s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0) {
            auto base = name.substr(0, name.size() - s.size());
            if (t.types.count(base) && t.types.at(base) == "histogram") return base;
        }
    }
    return {};
}

// Reads `{a="x",b="y"}` starting after '{'; returns the index after '}' or npos.
inline std::size_t prom_labels(const std::string& line, std::size_t i, std::map<std::string, std::string>& out) {
    static const std::regex name_re("[a-zA-Z_][a-zA-Z0-9_]*");
    while (i < line.size() && line[i] != '}') {
        auto eq = line.find('=', i);
        if (eq == std::string::npos || eq + 1 >= line.size() || line[eq + 1] != '"') return std::string::npos;
        std::string key = line.substr(i, eq - i);
        if (!std::regex_match(key, name_re)) return std::string::npos;
        std::string value;
        std::size_t k = eq + 2;
        for (; k < line.size() && line[k] != '"'; ++k) {
            if (line[k] != '\\') {
                value += line[k];
                continue;
            }
            if (++k >= line.size()) return std::string::npos;
            if (line[k] == 'n') value += '\n';
            else if (line[k] == '\\' || line[k] == '"') value += line[k];
            else return std::string::npos; // no other escape is valid
        }
        if (k >= line.size()) return std::string::npos;
        out[key] = value;
        i = k + 1;
        if (i < line.size() && line[i] == ',') ++i;
    }
    return i < line.size() ? i + 1 : std::string::npos;
}

inline prom_text parse_prometheus(const std::string& text) {
    static const std::regex help_re("# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) .+");
    static const std::regex type_re("# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)");
    static const std::regex name_re("[a-zA-Z_:][a-zA-Z0-9_:]*");
    prom_text t;
    if (!text.empty() && text.back() != '\n') t.problems.push_back("no newline at the end");
    std::size_t start = 0;
    while (start < text.size()) {
        auto end = text.find('\n', start);
        if (end == std::string::npos) end = text.size();
        std::string line = text.substr(start, end - start);
        start = end + 1;
        std::smatch m;
        if (std::regex_match(line, m, type_re)) {
            if (t.types.count(m[1])) t.problems.push_back("TYPE twice: " + line);
            t.types[m[1]] = m[2];
            continue;
        }
        if (std::regex_match(line, help_re)) continue;
        prom_sample s;
        auto name_end = line.find_first_of("{ ");
        s.name = line.substr(0, name_end);
        std::size_t at = name_end;
        if (!std::regex_match(s.name, name_re) || name_end == std::string::npos) {
            t.problems.push_back("not a sample: " + line);
            continue;
        }
        if (line[at] == '{') at = prom_labels(line, at + 1, s.labels);
        if (at == std::string::npos || at >= line.size() || line[at] != ' ') {
            t.problems.push_back("bad labels: " + line);
            continue;
        }
        std::string value = line.substr(at + 1);
        try {
            std::size_t used = 0;
            if (value == "+Inf") s.value = INFINITY;
            else if (value == "-Inf") s.value = -INFINITY;
            else if (value == "NaN") s.value = NAN;
            else s.value = std::stod(value, &used);
            if (value != "+Inf" && value != "-Inf" && value != "NaN" && used != value.size()) throw 0;
        } catch (...) {
            t.problems.push_back("bad value: " + line);
            continue;
        }
        if (prom_family(t, s.name).empty()) t.problems.push_back("sample before its TYPE: " + line);
        t.samples.push_back(std::move(s));
    }
    return t;
}

} // namespace herd::test
