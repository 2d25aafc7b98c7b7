#include "serve/gateway.hpp"

#include <herd/async/task_group.hpp>
#include <herd/openai/codec.hpp>

#include <algorithm>
#include <set>

namespace herd::serve {

using compat::use_nothrow;

gateway::gateway(herd::pool& pool, gateway_options options) : pool_(pool), options_(options) {}

gateway::ticket gateway::admit() {
    if (in_progress_ >= options_.max_queue) return ticket(nullptr);
    ++in_progress_;
    return ticket(this);
}

int gateway::priority_for(std::uint64_t connection) const {
    auto it = backlog_.find(connection);
    std::size_t backlog = it == backlog_.end() ? 0 : it->second;
    if (backlog <= options_.small_list) return 8;
    if (backlog <= 64 * options_.small_list) return 5;
    return 2;
}

awaitable<embed_answer> gateway::embed(const embed_call& call, std::uint64_t connection) {
    embed_answer out;
    const std::size_t n = call.texts.size();
    if (n == 0) co_return out;
    backlog_[connection] += n;
    struct release {
        gateway* g;
        std::uint64_t c;
        std::size_t n;
        ~release() {
            auto it = g->backlog_.find(c);
            if (it != g->backlog_.end() && (it->second -= n) == 0) g->backlog_.erase(it);
        }
    } release_backlog{this, connection, n};
    const int priority = priority_for(connection);
    embed_options opts{.model = call.model, .priority = priority, .dimensions = call.dimensions,
                       .truncate = call.truncate, .keep_alive = call.keep_alive, .options = call.options};
    std::vector<std::string_view> views(call.texts.begin(), call.texts.end());

    if (n == 1) {
        // Coalesced with every other client's single texts.
        auto [ec, v] = co_await pool_.async_embed(views[0], opts, use_nothrow);
        if (!ec) {
            out.vectors.push_row(v);
            co_return out;
        }
        if (ec == ::asio::error::operation_aborted) {
            out.fail = failure{ec};
            co_return out;
        }
        // The code alone lacks the node's text: ask once more, alone.
    }
    if (n <= std::max<std::size_t>(options_.one_request, 1)) {
        auto outcome = co_await pool_.embed_request(views, opts);
        out.fail = std::move(outcome.fail);
        out.vectors = std::move(outcome.reply.embeddings);
        out.prompt_tokens = outcome.reply.prompt_eval_count;
        co_return out;
    }
    batch_options bo{.model = call.model, .priority = priority, .dimensions = call.dimensions,
                     .truncate = call.truncate, .keep_alive = call.keep_alive, .options = call.options};
    try {
        out.vectors = co_await pool_.embed_batch(views, bo);
    } catch (const herd::error& e) {
        out.fail = failure_of(e);
    } catch (const std::system_error& e) {
        out.fail = failure{e.code()};
    }
    co_return out;
}

namespace {

// Runs a throwing pool call, turning herd::error and cancellation into a failure.
template <typename T, typename Call>
awaitable<failure> catching(T& into, Call call) {
    try {
        into = co_await call();
    } catch (const herd::error& e) {
        co_return failure_of(e);
    } catch (const std::system_error& e) {
        co_return failure{e.code()};
    }
    co_return failure{};
}

} // namespace

awaitable<stream_start> gateway::open(chat_request request) {
    stream_start out;
    out.fail = co_await catching(out.stream, [&] { return pool_.chat_stream(std::move(request)); });
    co_return out;
}

awaitable<stream_start> gateway::open(generate_request request) {
    stream_start out;
    out.fail = co_await catching(out.stream, [&] { return pool_.generate_stream(std::move(request)); });
    co_return out;
}

awaitable<stream_step> gateway::next(completion_stream& stream) {
    stream_step out;
    out.fail = co_await catching(out.part, [&] { return stream.next(); });
    co_return out;
}

awaitable<whole_answer> gateway::complete(chat_request request) {
    whole_answer out;
    out.fail = co_await catching(out.answer, [&] { return pool_.chat(std::move(request)); });
    co_return out;
}

awaitable<whole_answer> gateway::complete(generate_request request) {
    whole_answer out;
    out.fail = co_await catching(out.answer, [&] { return pool_.generate(std::move(request)); });
    co_return out;
}

awaitable<nlohmann::json> gateway::models(std::string_view path) {
    std::vector<std::optional<nlohmann::json>> lists(pool_.size());
    {
        task_group g(pool_.get_executor());
        for (std::size_t i = 0; i < pool_.size(); ++i) {
            g.spawn([](node& n, std::string p, duration timeout, std::optional<nlohmann::json>& into) -> awaitable<void> {
                auto deadline = clock::now() + timeout;
                if (n.url().api == http::api_kind::openai) {
                    // An OpenAI-compatible node: its /v1/models ids as
                    // installed models; it has nothing for /api/ps.
                    if (p != "/api/tags") co_return;
                    auto r = co_await n.http().control(n.http().format("GET", "/v1/models"), deadline);
                    std::vector<std::string> ids;
                    if (r.ec || r.response.status != 200 || !openai::parse_models(r.response.body, ids)) co_return;
                    nlohmann::json listed = nlohmann::json::array();
                    for (const auto& id : ids) listed.push_back(nlohmann::json{{"name", id}, {"model", id}});
                    into = std::move(listed);
                    co_return;
                }
                auto r = co_await n.http().control(n.http().format("GET", p), deadline);
                const auto& res = r.response;
                if (r.ec || res.status != 200) co_return;
                auto j = nlohmann::json::parse(res.body, nullptr, false);
                if (j.is_object() && j.contains("models") && j["models"].is_array()) into = std::move(j["models"]);
            }(pool_.at(i), std::string(path), pool_.config().connect_timeout + std::chrono::seconds(2), lists[i]));
        }
        co_await g.join();
    }
    nlohmann::json all = nlohmann::json::array();
    std::set<std::string> seen;
    for (auto& l : lists) {
        if (!l) continue;
        for (auto& m : *l) {
            if (!m.is_object() || !m.contains("name") || !m["name"].is_string()) continue;
            if (seen.insert(m["name"].get<std::string>()).second) all.push_back(m);
        }
    }
    nlohmann::json out;
    out["models"] = std::move(all);
    co_return out;
}

awaitable<std::string> gateway::version() {
    for (std::size_t i = 0; i < pool_.size(); ++i) {
        auto& n = pool_.at(i);
        auto deadline = clock::now() + pool_.config().connect_timeout;
        auto r = co_await n.http().control(n.http().format("GET", "/api/version"), deadline);
        const auto& res = r.response;
        if (r.ec || res.status != 200) continue;
        auto j = nlohmann::json::parse(res.body, nullptr, false);
        if (j.is_object() && j.contains("version") && j["version"].is_string()) co_return j["version"].get<std::string>();
    }
    co_return "0.0.0";
}

std::string model_not_found_text(std::string_view model) {
    return "model \"" + std::string(model) + "\" not found, try pulling it first";
}

int status_of(const failure& f) {
    if (f.code == errc::bad_request) return 400;
    if (f.code == errc::model_not_found || f.code == errc::no_nodes) return 404;
    // Every node said (or is known to say) it lacks the model.
    auto lacks = [](const node_cause& c) { return c.code == errc::model_not_found || c.code == errc::no_nodes; };
    if (f.code == errc::all_nodes_failed && !f.causes.empty() && std::all_of(f.causes.begin(), f.causes.end(), lacks))
        return 404;
    if (f.code == errc::server_busy) return 503;
    if (f.status >= 400 && f.status < 500) return f.status;
    return 500;
}

std::string text_of(const failure& f) {
    if (status_of(f) < 500 && !f.message.empty()) return f.message;
    std::string what = f.describe();
    for (const auto& c : f.causes) what += "; " + c.node + ": " + (c.message.empty() ? c.code.message() : c.message);
    return what;
}

failure failure_of(const herd::error& e) {
    // what() is "message\n  node: cause...: code text" (failure::raise and
    // std::system_error); the first line up to the code's text is the message.
    std::string what = e.what();
    what = what.substr(0, what.find('\n'));
    auto suffix = ": " + e.code().message();
    if (what.size() >= suffix.size() && what.compare(what.size() - suffix.size(), suffix.size(), suffix) == 0)
        what.resize(what.size() - suffix.size());
    return failure{e.code(), what, e.status(), e.causes()};
}

} // namespace herd::serve
