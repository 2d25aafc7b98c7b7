#pragma once
// What the Ollama and OpenAI APIs of `herd serve` share: the pool behind
// them, admission (a bound on requests in progress, 503 beyond), fairness
// between client connections, how an embedding call is spread, and how a
// herd failure becomes an HTTP status.
//
// Spreading an embedding call of n texts:
// - n = 1: pool.embed(text), so concurrent single texts from every client
//   are coalesced into shared node requests;
// - 1 < n <= one_request (64, what one node request holds): one resilient
//   request (pool.embed_request) to the node the router finds cheapest;
//   concurrent list callers each running the batch engine would each hand
//   every slow node a share and wait for it (measured: 6 clients sending
//   lists of 64 got 0.7x the fast node alone through the batch engine);
// - more: the batch engine over every node (pool.embed_batch), which
//   sizes each node's share by its speed.
// Rows come back in input order in every case. The call's truncate,
// dimensions, keep_alive and options go with every node request made for
// it; single texts share a node request only when all four are equal.
//
// Fairness: each connection's texts in progress are counted; a call's
// priority on the nodes' queues falls as its connection's backlog grows
// (8 up to `small_list` texts, 5 up to 64 x small_list, 2 beyond), so one
// connection's 100,000 inputs queue behind another's single query instead
// of in front of it (the pool's semaphores serve higher priorities first,
// with aging, so the big job still progresses).
//
// Cancellation: embed() honours terminal cancellation of the awaiting
// coroutine (the server cancels a handler whose client left): every pool
// call is cancelled and the answer's failure is operation_aborted. embed()
// never throws for node failures or cancellation.
//
// Not thread-safe: one executor, as the pool.

#include <herd/pool.hpp>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace herd::serve {

struct gateway_options {
    /// Embedding, chat and generate requests in progress at once; more get
    /// 503 "server busy, please try again.  maximum pending requests
    /// exceeded" (Ollama's OLLAMA_MAX_QUEUE default).
    std::size_t max_queue = 512;
    /// Lists up to this many texts go as one request; longer ones to the
    /// batch engine.
    std::size_t one_request = 64;
    /// Texts in progress on a connection up to which its calls run at high
    /// priority (see fairness above).
    std::size_t small_list = 64;
};

/// One embedding call as an API parsed it.
struct embed_call {
    std::string model;
    std::vector<std::string> texts;
    unsigned dimensions = 0;
    bool truncate = true;
    std::string keep_alive;
    /// Ollama's "options" as JSON text with keys sorted (so equal options
    /// are equal text); "" for none. Calls coalesce only with equal options.
    std::string options;
};

/// A streamed completion opened, or why not.
struct stream_start {
    failure fail;
    completion_stream stream; ///< valid when !fail
};

/// One step of a stream: a part, the end (no part, no failure) or a failure.
struct stream_step {
    failure fail;
    std::optional<chat_part> part;
};

/// A whole completion, or why not.
struct whole_answer {
    failure fail;
    chat_response answer;
};

struct embed_answer {
    failure fail;    ///< empty on success
    matrix vectors;  ///< row i is texts[i]
    std::uint64_t prompt_tokens = 0; ///< as the nodes counted (0 when unknown)
};

class gateway {
public:
    gateway(herd::pool& pool, gateway_options options = {});

    herd::pool& pool() noexcept { return pool_; }
    const gateway_options& options() const noexcept { return options_; }

    /// A place among the requests in progress; released on destruction.
    class ticket {
    public:
        explicit ticket(gateway* g) noexcept : g_(g) {}
        ticket(ticket&& o) noexcept : g_(std::exchange(o.g_, nullptr)) {}
        ticket& operator=(ticket&&) = delete;
        ~ticket() {
            if (g_) --g_->in_progress_;
        }
        explicit operator bool() const noexcept { return g_ != nullptr; }

    private:
        gateway* g_;
    };
    /// A ticket, or an empty one when max_queue requests are in progress.
    ticket admit();
    std::size_t in_progress() const noexcept { return in_progress_; }

    /// Embeds `call` for client connection `connection` (see the header).
    awaitable<embed_answer> embed(const embed_call& call, std::uint64_t connection);

    /// Chat and generate through the pool, failures and cancellation
    /// (operation_aborted) as values; see pool::chat_stream, stream::next,
    /// pool::chat. A stream step after the client left is cancelled.
    awaitable<stream_start> open(chat_request request);
    awaitable<stream_start> open(generate_request request);
    static awaitable<stream_step> next(completion_stream& stream);
    awaitable<whole_answer> complete(chat_request request);
    awaitable<whole_answer> complete(generate_request request);

    /// The union over every node of GET `path`'s {"models": [...]} (/api/tags,
    /// /api/ps), the first entry of each name kept, in node order. Nodes
    /// that do not answer within their connect timeout are left out. An
    /// OpenAI-compatible node gives its GET /v1/models ids as {"name",
    /// "model"} entries of /api/tags and nothing for /api/ps.
    awaitable<nlohmann::json> models(std::string_view path);

    /// The first answering node's GET /api/version "version" ("0.0.0" when
    /// none answers).
    awaitable<std::string> version();

private:
    int priority_for(std::uint64_t connection) const;

    herd::pool& pool_;
    gateway_options options_;
    std::size_t in_progress_ = 0;
    std::unordered_map<std::uint64_t, std::size_t> backlog_; // texts in progress per connection
};

/// Ollama's text for an unknown model on /api/embed:
/// `model "x" not found, try pulling it first`.
std::string model_not_found_text(std::string_view model);

/// The HTTP status a failure is answered with: a node's 400 and 404 as
/// they came, 404 when no node has the model (every cause a 404 or "not
/// tried" for lack of it), 503 for server_busy, 500 for everything else.
int status_of(const failure& f);

/// The text of a failure for a client: the node's own text for 4xx, else
/// herd's description with each node's cause.
std::string text_of(const failure& f);

/// A failure from a herd::error a throwing pool call raised.
failure failure_of(const herd::error& e);

} // namespace herd::serve
