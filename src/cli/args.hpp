#pragma once
// Command-line arguments of the herd tool: `--name value`, `--name=value`,
// `--flag`, and positionals. Hand-written: a few lines do what the tool
// needs, and the library's packages stay free of a CLI dependency.

#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace herd::cli {

class args {
public:
    /// `flags` names the options that take no value. Throws
    /// std::invalid_argument on an option missing its value.
    args(int argc, char** argv, int first, std::vector<std::string> flags = {});

    std::optional<std::string> get(const std::string& name) const;
    std::string get_or(const std::string& name, std::string fallback) const;
    /// Every value of an option given more than once, in order (get(): the last).
    std::vector<std::string> all(const std::string& name) const;
    /// A non-negative number; throws std::invalid_argument naming the option.
    std::size_t number_or(const std::string& name, std::size_t fallback) const;
    double real_or(const std::string& name, double fallback) const;
    bool flag(const std::string& name) const;
    const std::vector<std::string>& positional() const noexcept { return positional_; }
    /// Throws std::invalid_argument for an option not in `known`.
    void allow_only(const std::vector<std::string>& known) const;

private:
    std::map<std::string, std::string> values_;
    std::map<std::string, std::vector<std::string>> all_;
    std::vector<std::string> positional_;
};

} // namespace herd::cli
