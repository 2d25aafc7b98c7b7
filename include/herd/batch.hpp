#pragma once
// The corpus engine: embed many texts over every node at the sum of their
// speeds, in input order, losing nothing.
//
//   herd::matrix m = co_await pool.embed_batch(texts, {.on_progress = show});
//   co_await pool.embed_stream(source, sink, options);   // larger than RAM
//
// How: inputs go into one work-stealing deque per node (steal_deque),
// seeded in proportion to each node's measured speed. Each node runs up to
// its limiter's limit of workers; a worker takes a micro-batch from its
// node's deque (the size adapts per node towards `target_request_time`),
// steals half of the fullest deque when its own is empty, and writes each
// vector into its input's row. A failed micro-batch goes back to another
// node's deque; nothing is dropped. Near the end, idle workers re-issue the
// oldest in-flight micro-batch of another node (backup tasks): the first
// answer is written, the second is ignored, so each row is written once.
//
// Errors: the batch fails only when every node has been unavailable
// (ejected or lacking the model) for `give_up_after`, or at once on a
// permanent error (400: bad input, 404 on every node). The error
// (errc::all_nodes_failed) lists how many and which inputs are not done
// and each node's last cause. embed_batch throws herd::error;
// embed_stream returns the failure in its report.
// Cancellation: honours Asio cancellation; every worker has stopped when
// the call returns (operation_aborted).
// Membership: a node added to the pool while a batch runs gets a deque and
// workers at once and steals work; a removed node's queued inputs move to
// the other nodes at once, its in-flight micro-batches finish there or are
// re-sent by an idle node (the first answer is written). See pool.hpp.

#include <herd/async/stats.hpp>
#include <herd/error.hpp>
#include <herd/matrix.hpp>

#include <cstdint>
#include <type_traits>
#include <string>
#include <string_view>
#include <vector>

namespace herd {

/// Progress of a batch, reported through batch_options::on_progress.
struct progress {
    std::size_t done = 0;        ///< inputs embedded
    std::size_t total = 0;       ///< inputs known so far (streams: read so far)
    double seconds = 0;          ///< since the batch started
    double rate = 0;             ///< inputs per second so far
    std::size_t retries = 0;     ///< micro-batches given back after a failure
    std::size_t backups = 0;     ///< backup micro-batches started
    /// Inputs each node embedded: the pool's nodes when the batch started,
    /// in pool order, then nodes added while it ran, in the order they
    /// joined (a removed node keeps its entry).
    std::vector<std::size_t> per_node;
    std::vector<std::string> node_urls; ///< the node of each per_node entry
};

/// A callback that does not own what it calls, so that batch_options stays
/// trivially destructible (see embed_options in pool.hpp). It binds only to
/// a named callable (an lvalue), which must outlive the call:
///
///   auto show = [&](const progress& p) { ... };
///   co_await pool.embed_batch(texts, {.on_progress = show});
///
/// A temporary does not compile (`{.on_progress = [&](auto&) {...}}`):
/// in `batch_options o{...}` or under co_spawn it would be gone before the
/// batch reports progress.
template <typename Signature>
class function_ref;

template <typename R, typename... Args>
class function_ref<R(Args...)> {
public:
    function_ref() = default;
    template <typename F>
        requires(!std::is_same_v<std::remove_cv_t<F>, function_ref> && std::is_object_v<F> &&
                 std::is_invocable_r_v<R, F&, Args...>)
    function_ref(F& f) noexcept // NOLINT: implicit on purpose
        : object_(const_cast<void*>(static_cast<const void*>(&f))),
          call_([](void* o, Args... a) -> R { return (*static_cast<F*>(o))(a...); }) {}
    /// Deleted: a temporary callable would dangle (see above).
    template <typename F>
        requires(!std::is_same_v<std::remove_cvref_t<F>, function_ref> && !std::is_lvalue_reference_v<F>)
    function_ref(F&&) = delete;

    explicit operator bool() const noexcept { return call_ != nullptr; }
    R operator()(Args... a) const { return call_(object_, a...); }

private:
    void* object_ = nullptr;
    R (*call_)(void*, Args...) = nullptr;
};

struct batch_options {
    std::string_view model;      ///< empty: pool_config::model
    int priority = 5;            ///< 1..10 against other work on the nodes
    unsigned dimensions = 0;
    bool truncate = true;
    std::string_view keep_alive;
    std::string_view options;    ///< as embed_options::options
    std::size_t min_batch = 1;   ///< texts per request, lower bound
    std::size_t max_batch = 64;  ///< texts per request, upper bound
    duration target_request_time = std::chrono::milliseconds(300);
    bool backup_tasks = true;
    /// A micro-batch younger than this is never backed up (jitter on fast
    /// nodes is not a straggler).
    duration backup_after = std::chrono::milliseconds(20);
    duration give_up_after = std::chrono::seconds(10);
    /// Inputs per window of embed_stream (bounds its memory).
    std::size_t window = 8192;
    function_ref<void(const progress&)> on_progress;
    duration progress_interval = std::chrono::milliseconds(250);
};

/// Where embed_stream reads texts from. read() appends up to `max` texts and
/// returns how many; 0 means the end. It may throw to abort the batch.
class batch_source {
public:
    virtual ~batch_source() = default;
    virtual std::size_t read(std::vector<std::string>& texts, std::size_t max) = 0;
};

/// Where embed_stream writes vectors, in input order: rows of `rows` are
/// inputs first_index, first_index+1, ...
class batch_sink {
public:
    virtual ~batch_sink() = default;
    virtual void write(std::size_t first_index, const matrix& rows) = 0;
};

struct batch_report {
    failure fail;                ///< empty on success
    std::size_t inputs = 0;      ///< embedded and written
    double seconds = 0;
    std::size_t retries = 0;
    std::size_t backups = 0;
    std::size_t steals = 0;
    std::vector<std::size_t> per_node;  ///< as progress::per_node
    std::vector<std::string> node_urls; ///< as progress::node_urls
};

} // namespace herd
