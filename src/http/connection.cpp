#include <herd/http/connect.hpp>
#include <herd/http/connection.hpp>

#include "transport.hpp"

#include <deque>
#include <vector>

namespace herd::http {
namespace {

// One request on its way. Shared between the caller's coroutine and the
// connection's queues, because an abandoned request stays queued until its
// response has been read and discarded.
struct op {
    op(const executor& ex, std::string b, bool h, time_point deadline)
        : bytes(std::move(b)), head(h), signal(ex, deadline) {}
    time_point made = clock::now();
    std::string bytes;
    bool head;
    ::asio::steady_timer signal; // expires at the deadline; cancelled when done
    response_result result;
    bool done = false;
    bool abandoned = false;
    bool written = false;
};
using op_ptr = std::shared_ptr<op>;

} // namespace

struct connection::impl : std::enable_shared_from_this<impl> {
    enum class state { closed, connecting, open };

    impl(executor e, url t, connection_options o)
        : ex(std::move(e)), target(std::move(t)), options(o), socket(ex, tls_for(target, o.tls), target.host),
          writer_wake(ex, ::asio::steady_timer::time_point::max()),
          parser(message_kind::response, o.limits), read_buffer(64 * 1024) {
        if (options.pipeline_depth == 0) options.pipeline_depth = 1;
    }

    executor ex;
    url target;
    connection_options options;
    transport socket;
    ::asio::steady_timer writer_wake;
    http::parser parser;
    std::vector<char> read_buffer;
    std::deque<op_ptr> pending;  // not yet written
    std::deque<op_ptr> inflight; // written, in response order
    state st = state::closed;
    std::size_t generation = 0;  // one per session; stale coroutines check it
    std::size_t connect_count = 0;
    std::size_t responses_this_session = 0;
    std::optional<resolved_endpoints> resolved;

    static void complete(const op_ptr& o, std::error_code ec, message m = {}) {
        if (o->done) return;
        o->done = true;
        o->result.ec = ec;
        o->result.response = std::move(m);
        o->signal.cancel();
    }

    void kick() {
        if (st == state::closed) {
            if (pending.empty()) return;
            st = state::connecting;
            ::asio::co_spawn(ex, session(shared_from_this()), ::asio::detached);
        } else {
            writer_wake.cancel();
        }
    }

    awaitable<std::error_code> connect() {
        if (!resolved) {
            auto [ec, results] = co_await resolve(target);
            if (ec) co_return errc::connect_failed;
            resolved = std::move(results);
        }
        co_return co_await socket.open(*resolved, options.connect_timeout);
    }

    awaitable<void> session(std::shared_ptr<impl> self) {
        auto gen = ++generation;
        auto ec = co_await connect();
        if (gen != generation) co_return;
        if (ec) {
            st = state::closed;
            socket.close();
            auto waiting = std::move(pending);
            pending.clear();
            if (ec != errc::tls_failed) ec = errc::connect_failed;
            for (auto& o : waiting) {
                o->result.reason = socket.failure_reason();
                complete(o, ec);
            }
            co_return;
        }
        st = state::open;
        ++connect_count;
        responses_this_session = 0;
        parser.reset();
        ::asio::co_spawn(ex, writer(self, gen), ::asio::detached);
        co_await reader(gen);
    }

    awaitable<void> writer(std::shared_ptr<impl>, std::size_t gen) {
        std::vector<::asio::const_buffer> buffers;
        while (gen == generation && st == state::open) {
            buffers.clear();
            while (!pending.empty() && inflight.size() < options.pipeline_depth) {
                op_ptr o = std::move(pending.front());
                pending.pop_front();
                // In flight before the write completes: a fast server may
                // answer the first bytes while the rest are still going out.
                o->written = true;
                buffers.push_back(::asio::buffer(o->bytes));
                inflight.push_back(std::move(o));
            }
            if (buffers.empty()) {
                co_await writer_wake.async_wait(compat::use_nothrow);
                continue;
            }
            auto [ec, n] = co_await socket.write(buffers);
            if (ec) {
                drop(gen, errc::connection_lost);
                co_return;
            }
        }
    }

    awaitable<void> reader(std::size_t gen) {
        for (;;) {
            auto [ec, n] = co_await socket.read_some(::asio::buffer(read_buffer));
            if (gen != generation || st != state::open) co_return;
            if (ec) {
                if (ec == ::asio::error::eof && !inflight.empty() && parser.in_message()) {
                    auto r = parser.finish(); // a body delimited by the close
                    if (r.complete) deliver();
                }
                drop(gen, errc::connection_lost);
                co_return;
            }
            std::string_view data(read_buffer.data(), n);
            while (!data.empty()) {
                if (inflight.empty()) { // bytes nobody asked for
                    drop(gen, errc::protocol_error);
                    co_return;
                }
                if (!parser.in_message() && inflight.front()->head) parser.expect_no_body();
                auto r = parser.feed(data);
                if (r.ec) {
                    complete(inflight.front(), r.ec);
                    inflight.pop_front();
                    drop(gen, errc::connection_lost);
                    co_return;
                }
                data.remove_prefix(r.consumed);
                if (r.complete && !deliver()) {
                    drop(gen, errc::connection_lost);
                    co_return;
                }
            }
        }
    }

    // Hands the parsed response to the oldest request; false when the
    // server said it closes the connection.
    bool deliver() {
        auto m = parser.take();
        bool keep_alive = m.keep_alive;
        op_ptr o = std::move(inflight.front());
        inflight.pop_front();
        ++responses_this_session;
        complete(o, {}, std::move(m));
        writer_wake.cancel(); // the pipeline has room again
        return keep_alive;
    }

    // `dying`: the server itself failed (rather than one request timing
    // out), so requests not yet written fail too if it never answered.
    void drop(std::size_t gen, std::error_code ec, bool dying = true) {
        if (gen != generation || st == state::closed) return;
        st = state::closed;
        socket.close();
        writer_wake.cancel();
        auto lost = std::move(inflight);
        inflight.clear();
        for (auto& o : lost) complete(o, ec);
        // Requests never written may go on a new connection, unless this
        // one closed before answering anything (a dying server): then they
        // fail too rather than spin on reconnects.
        if (dying && responses_this_session == 0 && !lost.empty()) {
            auto waiting = std::move(pending);
            pending.clear();
            for (auto& o : waiting) complete(o, errc::connection_lost);
        }
        kick();
    }

    void abandon(const op_ptr& o) {
        o->abandoned = true;
        if (!o->written) {
            for (auto it = pending.begin(); it != pending.end(); ++it)
                if (*it == o) {
                    pending.erase(it);
                    break;
                }
        }
    }

    void close_all(std::error_code ec) {
        ++generation; // stale coroutines stop
        st = state::closed;
        socket.close();
        writer_wake.cancel();
        for (auto* q : {&pending, &inflight}) {
            auto ops = std::move(*q);
            q->clear();
            for (auto& o : ops) complete(o, ec);
        }
    }
};

connection::connection(executor ex, url target, connection_options options)
    : impl_(std::make_shared<impl>(std::move(ex), std::move(target), options)) {}

connection::~connection() { impl_->close_all(::asio::error::operation_aborted); }

awaitable<response_result> connection::request(std::string bytes, time_point deadline, bool head) {
    auto self = impl_;
    auto o = std::make_shared<op>(self->ex, std::move(bytes), head, deadline);
    self->pending.push_back(o);
    self->kick();
    auto [ec] = co_await o->signal.async_wait(compat::use_nothrow);
    if (o->done) co_return std::move(o->result);
    self->abandon(o);
    if (ec == ::asio::error::operation_aborted) co_return response_result{ec, {}};
    // Deadline passed. A written request with no answer means the server
    // stalled: close, so requests behind it fail fast and can move.
    if (o->written && self->st == impl::state::open) self->drop(self->generation, errc::pipeline_aborted, false);
    co_return response_result{errc::timeout, {}};
}

std::size_t connection::load() const noexcept { return impl_->pending.size() + impl_->inflight.size(); }

std::optional<time_point> connection::oldest_request() const noexcept {
    // Both queues are in the order requests were made.
    std::optional<time_point> oldest;
    for (auto* q : {&impl_->inflight, &impl_->pending})
        if (!q->empty() && (!oldest || q->front()->made < *oldest)) oldest = q->front()->made;
    return oldest;
}
bool connection::is_open() const noexcept { return impl_->st == impl::state::open; }
std::size_t connection::connects() const noexcept { return impl_->connect_count; }
void connection::close() { impl_->drop(impl_->generation, errc::connection_lost); }

} // namespace herd::http
