#pragma once
// One simulated Ollama node: a loopback listener, its connections, its
// models and slots, its faults and counters. Lives on the simulator's one
// thread; only counters() may be read from elsewhere.
//
// node.cpp holds the life cycle (listen, refuse, die, come back) and request
// dispatch with the request-level faults; node_reply.cpp the writing of
// answers with the body-level faults; node_api.cpp the Ollama endpoints.
//
// Coroutine rule here: no temporary with a destructor (a std::string, a
// struct holding one) inside a co_await expression; g++ 12 can destroy it
// twice. Build such arguments into a named variable first.

#include "sim/chat.hpp"
#include "sim/counters.hpp"
#include "sim/embed.hpp"
#include "sim/models.hpp"
#include "sim/prng.hpp"
#include "sim/profile.hpp"
#include "sim/session.hpp"

#include <nlohmann/json_fwd.hpp>

#include <memory>
#include <string>

namespace herd::sim {

class node {
public:
    node(asio::io_context& io, std::size_t index, node_profile profile, double time_scale, vector_cache& cache);
    node(const node&) = delete;
    node& operator=(const node&) = delete;

    /// Binds the port (synchronously; throws when it cannot), then applies
    /// the profile's faults (a node that starts refusing has its port too).
    void start();
    /// Closes the listener and every connection for good.
    void shutdown();
    /// Replaces the faults; a listener closed by refuse or die opens again
    /// on the same port when the new spec does not refuse.
    void set_fault(fault_spec f);

    const fault_spec& faults() const noexcept { return *faults_; }
    const node_profile& profile() const noexcept { return profile_; }
    std::size_t index() const noexcept { return index_; }
    std::uint16_t port() const noexcept { return port_; }
    bool listening() const noexcept { return acceptor_.is_open(); }
    std::string url() const;
    live_counters& counters() noexcept { return counters_; }
    const live_counters& counters() const noexcept { return counters_; }
    /// {index, url, listening, profile, faults, counters}
    nlohmann::json describe() const;

private:
    /// One request being answered, with the faults in force when it came.
    struct exchange {
        session& s;
        std::shared_ptr<const fault_spec> f;
        bool keep_alive;     ///< the connection goes on after this answer
        bool http10 = false; ///< an HTTP/1.0 request
        bool faulted = false;
        bool openai = false; ///< a /v1/ request: errors in OpenAI's shape
    };
    enum class sent { ok, gone, reset };

    // node.cpp
    void listen();
    void close_listener();
    void apply_faults();
    void die();
    awaitable<void> serve(std::shared_ptr<session> s);
    awaitable<bool> handle(session& s, http::message& m);
    awaitable<bool> dispatch(exchange& x, const http::message& m, std::string_view path);
    void mark_fault(exchange& x);
    std::chrono::nanoseconds scaled(std::chrono::nanoseconds d, bool with_tail);

    // node_reply.cpp
    /// Writes a whole answer framed for `x`'s request (clearing
    /// x.keep_alive when the framing ends the connection); `allow` is a 405's
    /// Allow header. False when the connection is gone.
    awaitable<bool> reply(exchange& x, int status, std::string_view content_type, std::string_view body,
                          bool head_only = false, std::string_view allow = {});
    /// The exact 503 of a full queue (OLLAMA_MAX_QUEUE).
    awaitable<bool> reply_busy(exchange& x);
    awaitable<bool> reply_error(exchange& x, const api_error& e);
    awaitable<sent> deliver(exchange& x, std::string_view bytes, std::size_t head_len);
    awaitable<void> send_garbage(exchange& x);
    /// Takes a slot of `m` (or answers 503 beyond queue_limit) and loads the
    /// model. Returns the time spent waiting for the slot; nullopt when the
    /// request is over already, `keep` then telling whether the connection
    /// goes on.
    awaitable<std::optional<std::chrono::nanoseconds>> admit(exchange& x, model_state& m, slot_permit& permit,
                                                             bool& keep);
    /// The installed model `name` for a request to `verb` ("embeddings",
    /// "chat", "generate"), or Ollama's error: not installed 404 (worded
    /// differently for embeddings), an embedding model asked to chat or
    /// generate 400. Any model embeds.
    model_state* find_model(std::string_view name, std::string_view verb, api_error& err);

    // node_api.cpp
    /// /api/embed, /api/embeddings (legacy) or (x.openai) /v1/embeddings:
    /// the same work and vectors, each in its own shape.
    awaitable<bool> api_embed(exchange& x, const http::message& m, bool legacy);
    /// /api/chat, /api/generate, or (x.openai) /v1/chat/completions.
    awaitable<bool> api_chat(exchange& x, const http::message& m, bool generate);
    awaitable<bool> api_chat_load(exchange& x, const chat_request& r, model_state& ms);
    awaitable<bool> stream_write(exchange& x, bool& head_sent, std::string_view line, bool last,
                                 std::string_view type = "application/x-ndjson");

    asio::io_context& io_;
    std::size_t index_;
    node_profile profile_;
    double time_scale_;
    vector_cache& cache_;
    model_table models_;
    live_counters counters_;
    prng rng_;
    std::shared_ptr<const fault_spec> faults_;
    std::uint64_t served_ = 0;    // answered since the faults were set (die_after)
    std::uint64_t error_seq_ = 0; // requests since the faults were set (error_every)
    tcp::acceptor acceptor_;
    std::uint16_t port_;
    std::uint64_t listen_gen_ = 0;
    asio::steady_timer comeback_;
    session_set sessions_;
    bool stopped_ = false;
};

} // namespace herd::sim
