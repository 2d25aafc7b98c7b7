#include <herd/http/parser.hpp>

#include <llhttp.h>

#include <algorithm>
#include <cctype>
#include <cstdint>

namespace herd::http {

std::string_view message::header(std::string_view name) const noexcept {
    for (const auto& [k, v] : headers)
        if (k == name) return v;
    return {};
}

namespace {
constexpr std::size_t reserve_step = 1024 * 1024;
} // namespace

struct parser::impl {
    llhttp_t llhttp{};
    llhttp_settings_t settings{};
    message_kind kind;
    parser_limits limits;
    message msg;
    std::string field, value;
    bool in_value = false;
    bool started = false;
    bool head_done = false;
    bool complete = false;
    bool no_body_next = false;
    std::size_t header_bytes = 0;
    std::size_t body_bytes = 0;
    std::uint64_t declared_length = 0; // Content-Length of the current message, 0 if none
    std::size_t last_body_size = 0;    // the body size of the message taken last
    std::function<void(std::string_view)> sink;
    std::error_code user_error;

    impl(message_kind k, parser_limits l) : kind(k), limits(l) {
        llhttp_settings_init(&settings);
        settings.on_message_begin = [](llhttp_t* p) { return self(p).on_begin(); };
        settings.on_url = [](llhttp_t* p, const char* at, size_t n) {
            return self(p).on_head_bytes(self(p).msg.target, at, n);
        };
        settings.on_method = [](llhttp_t* p, const char* at, size_t n) {
            return self(p).on_head_bytes(self(p).msg.method, at, n);
        };
        settings.on_header_field = [](llhttp_t* p, const char* at, size_t n) {
            auto& s = self(p);
            if (s.in_value) s.push_header();
            return s.on_head_bytes(s.field, at, n);
        };
        settings.on_header_value = [](llhttp_t* p, const char* at, size_t n) {
            auto& s = self(p);
            s.in_value = true;
            return s.on_head_bytes(s.value, at, n);
        };
        settings.on_headers_complete = [](llhttp_t* p) { return self(p).on_headers_complete(); };
        settings.on_body = [](llhttp_t* p, const char* at, size_t n) { return self(p).on_body(at, n); };
        settings.on_message_complete = [](llhttp_t* p) {
            self(p).complete = true;
            return static_cast<int>(HPE_PAUSED); // hand the message over before the next
        };
        init();
    }

    static impl& self(llhttp_t* p) { return *static_cast<impl*>(p->data); }

    void init() {
        llhttp_init(&llhttp, kind == message_kind::request ? HTTP_REQUEST : HTTP_RESPONSE, &settings);
        llhttp.data = this;
    }

    int on_begin() {
        msg = message{};
        field.clear();
        value.clear();
        in_value = false;
        started = true;
        head_done = false;
        header_bytes = body_bytes = 0;
        return 0;
    }

    int fail(errc e) {
        user_error = e;
        return -1;
    }

    int on_head_bytes(std::string& into, const char* at, size_t n) {
        header_bytes += n;
        if (header_bytes > limits.max_header_bytes) return fail(errc::header_too_large);
        into.append(at, n);
        return 0;
    }

    void push_header() {
        std::transform(field.begin(), field.end(), field.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        msg.headers.emplace_back(std::move(field), std::move(value));
        field.clear();
        value.clear();
        in_value = false;
    }

    int on_headers_complete() {
        if (in_value) push_header();
        msg.status = llhttp_get_status_code(&llhttp);
        msg.keep_alive = llhttp_should_keep_alive(&llhttp) != 0;
        msg.chunked = (llhttp.flags & F_CHUNKED) != 0;
        declared_length = 0;
        msg.http10 = llhttp.http_major == 1 && llhttp.http_minor == 0;
        if (llhttp.flags & F_CONTENT_LENGTH) {
            if (llhttp.content_length > limits.max_body_bytes) return fail(errc::body_too_large);
            declared_length = llhttp.content_length;
        }
        head_done = true;
        if (no_body_next) {
            no_body_next = false;
            return 1;
        }
        return 0;
    }

    int on_body(const char* at, size_t n) {
        body_bytes += n;
        if (body_bytes > limits.max_body_bytes) return fail(errc::body_too_large);
        if (sink) {
            sink(std::string_view(at, n));
        } else {
            grow_body(n);
            msg.body.append(at, n);
        }
        return 0;
    }

    // Room for `n` more body bytes. A claimed Content-Length is trusted
    // only as a cap, never reserved ahead: a node claiming 500 MB and
    // sending nothing costs nothing. Growth doubles what was received,
    // at most by reserve_step, so reallocations stay few.
    void grow_body(std::size_t n) {
        auto& body = msg.body;
        std::size_t need = body.size() + n;
        if (need <= body.capacity()) return;
        std::size_t want = need + std::min(body.size(), reserve_step);
        // The first bytes of a body: reserve what the last message's body
        // held. A node answers batches of alike sizes, so one allocation
        // replaces a series of doublings, each a copy into fresh memory
        // (page faults on every 4 KB of a megabyte body). Bounded by what
        // the peer really sent before.
        if (body.empty()) want = std::max(want, last_body_size);
        if (declared_length > 0) want = std::min<std::size_t>(want, std::max<std::size_t>(declared_length, need));
        // Not reserve(): libstdc++ rounds a reserve up to twice the old capacity.
        std::string bigger;
        bigger.reserve(want);
        bigger.append(body);
        body.swap(bigger);
    }

    result finish_execute(llhttp_errno_t rc, const char* begin, std::size_t len) {
        result r;
        if (rc == HPE_OK) {
            r.consumed = len;
        } else if (rc == HPE_PAUSED) {
            r.consumed = static_cast<std::size_t>(llhttp_get_error_pos(&llhttp) - begin);
            llhttp_resume(&llhttp);
        } else {
            r.ec = user_error ? user_error : make_error_code(errc::protocol_error);
            r.consumed = len;
        }
        r.complete = complete;
        return r;
    }
};

parser::parser(message_kind kind, parser_limits limits) : impl_(std::make_unique<impl>(kind, limits)) {}
parser::~parser() = default;

parser::result parser::feed(std::string_view data) {
    auto& s = *impl_;
    if (s.complete) return {0, true, {}};
    auto rc = llhttp_execute(&s.llhttp, data.data(), data.size());
    return s.finish_execute(rc, data.data(), data.size());
}

parser::result parser::finish() {
    auto& s = *impl_;
    if (s.complete) return {0, true, {}};
    if (!s.started) return {};
    auto rc = llhttp_finish(&s.llhttp);
    result r;
    r.complete = s.complete;
    if (rc != HPE_OK && rc != HPE_PAUSED) r.ec = make_error_code(errc::connection_lost);
    else if (!s.complete) r.ec = make_error_code(errc::connection_lost);
    return r;
}

bool parser::in_message() const noexcept { return impl_->started; }
bool parser::headers_done() const noexcept { return impl_->head_done; }
const message& parser::current() const noexcept { return impl_->msg; }
void parser::expect_no_body() { impl_->no_body_next = true; }
void parser::set_body_sink(std::function<void(std::string_view)> sink) { impl_->sink = std::move(sink); }

message parser::take() {
    auto& s = *impl_;
    s.complete = false;
    s.started = false;
    s.head_done = false;
    s.last_body_size = s.msg.body.size();
    return std::move(s.msg);
}

void parser::reset() {
    auto& s = *impl_;
    s.complete = s.started = s.head_done = s.no_body_next = false;
    s.user_error = {};
    s.msg = message{};
    s.init();
}

} // namespace herd::http
