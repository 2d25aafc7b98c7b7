#include "serve/http_server.hpp"

#include "http/ascii.hpp"

#include <herd/async/race.hpp>

#include <fmt/format.h>

#include <array>
#include <ctime>
#include <deque>
#include <stdexcept>
#include <unordered_map>
#include <vector>

namespace herd::serve {

using compat::use_nothrow;
using steady_clock = std::chrono::steady_clock;

namespace {

// "Mon, 30 Nov 2026 10:04:14 GMT"
std::string http_date() {
    std::time_t now = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&now, &tm);
    char buf[64];
    auto n = std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    return std::string(buf, n);
}

int reject_status(std::error_code ec) {
    if (ec == errc::header_too_large) return 431;
    if (ec == errc::body_too_large) return 413;
    return 400;
}

// A never-expiring timer used as an event: cancel() wakes its waiter.
struct event {
    explicit event(const executor& ex) : timer(ex, steady_clock::time_point::max()) {}
    void notify() { timer.cancel(); }
    awaitable<void> wait() {
        timer.expires_at(steady_clock::time_point::max());
        co_await timer.async_wait(use_nothrow);
    }
    ::asio::steady_timer timer;
};

} // namespace

std::string_view reason_phrase(int status) noexcept {
    switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 413: return "Request Entity Too Large";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Unknown";
    }
}

std::string_view request::path() const noexcept {
    std::string_view t = message.target;
    return t.substr(0, t.find('?'));
}

std::string_view request::query() const noexcept {
    std::string_view t = message.target;
    auto q = t.find('?');
    return q == std::string_view::npos ? std::string_view{} : t.substr(q + 1);
}

struct http_server::state {
    state(executor e, handler h, server_options o)
        : ex(std::move(e)), acceptor(ex), handle(std::move(h)), options(std::move(o)), changed(ex) {}
    executor ex;
    tcp::acceptor acceptor;
    handler handle;
    server_options options;
    std::unordered_map<std::uint64_t, std::shared_ptr<session>> sessions;
    std::uint64_t next_id = 0;
    bool stopping = false;
    event changed; // a session ended

    std::pair<std::string, std::string> reject_body(int status) const {
        if (options.reject_body) return options.reject_body(status);
        return {"text/plain; charset=utf-8", fmt::format("{} {}", status, reason_phrase(status))};
    }
};

// One connection: a reader coroutine that parses ahead and notices the
// client leaving, and a worker coroutine that runs one handler at a time.
class session : public std::enable_shared_from_this<session> {
public:
    session(std::shared_ptr<http_server::state> st, tcp::socket socket, std::uint64_t id)
        : st_(std::move(st)),
          socket_(std::move(socket)),
          id_(id),
          parser_(http::message_kind::request,
                  http::parser_limits{st_->options.max_header_bytes, st_->options.max_body_bytes}),
          buf_(st_->options.read_buffer_bytes),
          work_ready_(st_->ex),
          read_ready_(st_->ex) {
        std::error_code ignored;
        peer_ = socket_.remote_endpoint(ignored);
    }

    void start() {
        auto self = shared_from_this();
        ::asio::co_spawn(st_->ex, read_loop(self), ::asio::detached);
        ::asio::co_spawn(st_->ex, work_loop(self),
                         ::asio::bind_cancellation_slot(cancel_.slot(), [self](std::exception_ptr) {
                             self->close();
                             self->st_->sessions.erase(self->id_);
                             self->st_->changed.notify();
                         }));
    }

    // Graceful: finish the running handler, then close.
    void stop() {
        stopping_ = true;
        stop_parsing_ = true;
        queue_.clear();
        if (!busy_) close();
        work_ready_.notify();
    }

    // Past the deadline: cancel the handler and close.
    void abort() {
        stopping_ = true;
        queue_.clear();
        if (busy_) cancel_.emit(::asio::cancellation_type::terminal);
        close();
    }

    void close() {
        if (closed_) return;
        closed_ = true;
        std::error_code ignored;
        socket_.shutdown(tcp::socket::shutdown_both, ignored);
        socket_.close(ignored);
        work_ready_.notify();
        read_ready_.notify();
    }

    awaitable<std::error_code> write(std::span<const ::asio::const_buffer> buffers) {
        if (closed_) co_return make_error_code(::asio::error::not_connected);
        auto [ec, n] = co_await ::asio::async_write(socket_, buffers, use_nothrow);
        if (ec) close();
        co_return ec;
    }

    bool gone() const noexcept { return gone_; }
    bool stopping() const noexcept { return stopping_; }
    const http::message& current() const noexcept { return current_; }

private:
    struct item {
        http::message message;
        int reject = 0; // 400/413/431: answer this and close
    };

    // Parses what is buffered into queue_, up to max_pipelined. Returns
    // true when the client asked for `100 Continue` on a request that is
    // the next to run.
    bool parse_buffered() {
        bool ask = false;
        while (!stop_parsing_ && begin_ < end_ && queue_.size() < st_->options.max_pipelined) {
            auto r = parser_.feed(std::string_view(buf_.data() + begin_, end_ - begin_));
            begin_ += r.consumed;
            if (r.ec) {
                queue_.push_back(item{{}, reject_status(r.ec)});
                stop_parsing_ = true;
                break;
            }
            if (!r.complete) {
                ask = !sent_continue_ && !busy_ && queue_.empty() && parser_.headers_done() &&
                      http::iequals(parser_.current().header("expect"), "100-continue");
                break;
            }
            sent_continue_ = false;
            item it{parser_.take()};
            if (!it.message.keep_alive) stop_parsing_ = true;
            queue_.push_back(std::move(it));
        }
        if (begin_ == end_) begin_ = end_ = 0;
        if (!queue_.empty()) work_ready_.notify();
        return ask;
    }

    awaitable<void> read_loop(std::shared_ptr<session> /*keeps it alive*/) {
        static constexpr char continue_100[] = "HTTP/1.1 100 Continue\r\n\r\n";
        while (!closed_) {
            if (parse_buffered()) {
                sent_continue_ = true;
                std::array<::asio::const_buffer, 1> b{::asio::buffer(continue_100, sizeof continue_100 - 1)};
                co_await write(b);
                continue;
            }
            if (begin_ > 0 && end_ == buf_.size()) { // make room behind the unparsed bytes
                std::copy(buf_.begin() + begin_, buf_.begin() + end_, buf_.begin());
                end_ -= begin_;
                begin_ = 0;
            }
            if (end_ == buf_.size()) { // full with requests we cannot queue yet
                co_await read_ready_.wait();
                continue;
            }
            auto [ec, n] = co_await socket_.async_read_some(::asio::buffer(buf_.data() + end_, buf_.size() - end_),
                                                             use_nothrow);
            if (ec) {
                on_gone();
                co_return;
            }
            if (!stop_parsing_) end_ += n; // after the last request, bytes are only read to notice EOF
        }
    }

    void on_gone() {
        if (closed_) return;
        gone_ = true;
        queue_.clear();
        if (busy_) cancel_.emit(::asio::cancellation_type::terminal);
        work_ready_.notify();
    }

    awaitable<void> work_loop(std::shared_ptr<session> /*keeps it alive*/) {
        co_await ::asio::this_coro::throw_if_cancelled(false);
        for (;;) {
            while (queue_.empty() && !closed_ && !gone_ && !stopping_) co_await work_ready_.wait();
            if (queue_.empty() || closed_ || gone_) break;
            item it = std::move(queue_.front());
            queue_.pop_front();
            parse_buffered(); // room in the queue again
            read_ready_.notify();
            if (it.reject) {
                co_await reject(it.reject);
                break;
            }
            busy_ = true;
            const bool last = co_await run(std::move(it.message));
            busy_ = false;
            if (last || stopping_) break;
        }
        close();
    }

    awaitable<void> reject(int status) {
        response res(*this);
        res.close_after();
        auto [type, body] = st_->reject_body(status);
        co_await res.send(status, type, body);
    }

    // Runs the handler for one request; true when the connection must close.
    awaitable<bool> run(http::message m) {
        request req{std::move(m), id_, peer_};
        current_.method = req.message.method;
        current_.http10 = req.message.http10;
        current_.keep_alive = req.message.keep_alive;
        response res(*this);
        if (!req.message.keep_alive) res.close_after();
        std::exception_ptr error;
        try {
            co_await st_->handle(req, res);
        } catch (...) {
            error = std::current_exception();
        }
        if (gone_ || closed_) co_return true;
        if (!res.started()) {
            auto text = "500 Internal Server Error";
            co_await res.send(500, "text/plain; charset=utf-8", text);
        } else if (error) {
            co_return true; // torn body: the client must not take it for whole
        } else if (!res.finished()) {
            co_await res.end_stream();
        }
        co_return res.closing() || closed_;
    }

    friend class response;
    std::shared_ptr<http_server::state> st_;
    tcp::socket socket_;
    std::uint64_t id_;
    tcp::endpoint peer_;
    http::parser parser_;
    std::vector<char> buf_;
    std::size_t begin_ = 0, end_ = 0; // unparsed bytes in buf_
    std::deque<item> queue_;
    http::message current_; // head facts of the request being answered
    event work_ready_, read_ready_;
    ::asio::cancellation_signal cancel_;
    bool busy_ = false, gone_ = false, closed_ = false, stopping_ = false;
    bool stop_parsing_ = false, sent_continue_ = false;
};

// --- response -------------------------------------------------------------

bool response::client_gone() const noexcept { return session_->gone(); }

awaitable<std::error_code> response::write_head(int status, std::string_view content_type,
                                                std::string_view length_header, std::span<const header_field> extra,
                                                std::string_view body) {
    if (started_) throw std::logic_error("herd serve: response already started");
    started_ = true;
    if (session_->stopping()) close_after_ = true;
    std::string head = fmt::format("HTTP/1.1 {} {}\r\nContent-Type: {}\r\nDate: {}\r\n{}", status,
                                   reason_phrase(status), content_type, http_date(), length_header);
    if (close_after_) head += "Connection: close\r\n";
    for (auto& h : extra) fmt::format_to(std::back_inserter(head), "{}: {}\r\n", h.name, h.value);
    head += "\r\n";
    std::array<::asio::const_buffer, 2> b{::asio::buffer(head), ::asio::buffer(body.data(), body.size())};
    co_return co_await session_->write(b);
}

awaitable<std::error_code> response::send(int status, std::string_view content_type, std::string_view body,
                                          std::span<const header_field> extra) {
    const bool head_only = session_->current().method == "HEAD";
    std::string length = fmt::format("Content-Length: {}\r\n", body.size());
    auto ec = co_await write_head(status, content_type, length, extra, head_only ? std::string_view{} : body);
    finished_ = true;
    co_return ec;
}

awaitable<std::error_code> response::begin_stream(int status, std::string_view content_type,
                                                  std::span<const header_field> extra) {
    // HTTP/1.0 knows no chunks: the body ends with the connection.
    streaming_ = true;
    head_only_ = session_->current().method == "HEAD";
    chunked_ = !session_->current().http10;
    if (!chunked_) close_after_ = true;
    std::string_view length = chunked_ ? "Transfer-Encoding: chunked\r\n" : "";
    co_return co_await write_head(status, content_type, length, extra, {});
}

awaitable<std::error_code> response::write(std::string_view data) {
    if (!streaming_ || finished_) throw std::logic_error("herd serve: write outside a stream");
    if (head_only_ || data.empty()) co_return std::error_code{};
    if (!chunked_) {
        std::array<::asio::const_buffer, 1> b{::asio::buffer(data.data(), data.size())};
        co_return co_await session_->write(b);
    }
    std::string size = fmt::format("{:x}\r\n", data.size());
    std::array<::asio::const_buffer, 3> b{::asio::buffer(size), ::asio::buffer(data.data(), data.size()),
                                          ::asio::buffer("\r\n", 2)};
    co_return co_await session_->write(b);
}

awaitable<std::error_code> response::end_stream() {
    if (!streaming_) throw std::logic_error("herd serve: end_stream before begin_stream");
    if (finished_) co_return std::error_code{};
    finished_ = true;
    if (!chunked_ || head_only_) co_return std::error_code{}; // HTTP/1.0: closing the connection ends it
    std::array<::asio::const_buffer, 1> b{::asio::buffer("0\r\n\r\n", 5)};
    co_return co_await session_->write(b);
}

// --- http_server ----------------------------------------------------------

http_server::http_server(executor ex, handler h, server_options options)
    : state_(std::make_shared<state>(std::move(ex), std::move(h), std::move(options))) {}

http_server::~http_server() {
    std::error_code ignored;
    state_->acceptor.close(ignored);
}

void http_server::listen(const tcp::endpoint& where) {
    auto& a = state_->acceptor;
    a.open(where.protocol());
    a.set_option(::asio::socket_base::reuse_address(true));
    a.bind(where);
    a.listen(::asio::socket_base::max_listen_connections);
}

tcp::endpoint http_server::local_endpoint() const { return state_->acceptor.local_endpoint(); }

std::size_t http_server::connections() const noexcept { return state_->sessions.size(); }
std::uint64_t http_server::accepted() const noexcept { return state_->next_id; }

namespace {

awaitable<void> accept_loop(std::shared_ptr<http_server::state> st) {
    while (st->acceptor.is_open() && !st->stopping) {
        auto [ec, socket] = co_await st->acceptor.async_accept(use_nothrow);
        if (st->stopping || !st->acceptor.is_open()) co_return;
        if (ec) { // out of descriptors and the like: back off instead of spinning
            ::asio::steady_timer t(st->ex, std::chrono::milliseconds(10));
            co_await t.async_wait(use_nothrow);
            continue;
        }
        std::error_code ignored;
        socket.set_option(tcp::no_delay(true), ignored);
        auto id = ++st->next_id;
        auto s = std::make_shared<session>(st, std::move(socket), id);
        st->sessions.emplace(id, s);
        s->start();
    }
}

} // namespace

void http_server::start() { ::asio::co_spawn(state_->ex, accept_loop(state_), ::asio::detached); }

awaitable<void> http_server::shutdown(steady_clock::duration grace) {
    auto st = state_;
    st->stopping = true;
    std::error_code ignored;
    st->acceptor.close(ignored);
    std::vector<std::shared_ptr<session>> all;
    for (auto& [id, s] : st->sessions) all.push_back(s);
    for (auto& s : all) s->stop();
    auto drained = [st]() -> awaitable<bool> {
        auto cancel = co_await ::asio::this_coro::cancellation_state;
        while (!st->sessions.empty()) {
            co_await st->changed.wait();
            if (detail::was_cancelled(cancel)) co_return false; // the deadline came first
        }
        co_return true;
    };
    auto r = co_await with_deadline(drained, steady_clock::now() + grace);
    if (!r.expired) co_return;
    all.clear();
    for (auto& [id, s] : st->sessions) all.push_back(s);
    for (auto& s : all) s->abort();
    co_await drained();
}

} // namespace herd::serve
