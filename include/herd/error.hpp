#pragma once
// herd's errors: one error_category for everything herd itself detects, a
// retryable/permanent classification the pool's retry logic relies on, and
// the exception type thrown by the throwing forms of the API.

#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace herd {

/// Error conditions herd reports. Values are stable (they appear in metrics).
enum class errc {
    connect_failed = 1,    ///< TCP connect refused, unreachable or timed out
    connection_lost,       ///< peer closed or reset with requests in flight
    timeout,               ///< no response before the request's deadline
    server_busy,           ///< 503: the node's queue is full
    server_error,          ///< other 5xx
    bad_request,           ///< 400: the node rejected the input
    model_not_found,       ///< 404: the model is not installed on the node
    http_error,            ///< any other non-2xx status
    protocol_error,        ///< bytes that are not HTTP/1.1 or not the expected JSON
    header_too_large,      ///< response head over parser_limits::max_header_bytes
    body_too_large,        ///< response body over parser_limits::max_body_bytes
    wrong_embedding_count, ///< node answered with a different number of vectors
    stream_error,          ///< an {"error": ...} line arrived inside a stream
    all_nodes_failed,      ///< every eligible node failed the request
    no_nodes,              ///< the pool has no node (or none with the model)
    node_ejected,          ///< the node is ejected by health checking
    budget_exhausted,      ///< retry budget spent; the last cause is attached
    pipeline_aborted,      ///< dropped because a request ahead on its pipelined
                           ///< connection timed out: resend; not the node's failure
    tls_failed,            ///< TLS handshake or certificate verification failed
};

const std::error_category& category() noexcept;

inline std::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), category()};
}

/// True for failures another node (or a later attempt) may not repeat:
/// connection trouble, timeouts, 5xx, 503, garbage, a buggy count. False for
/// 400/404 (the input or the model is the problem) and for cancellation.
bool is_retryable(std::error_code ec) noexcept;

/// A short stable name of a failure's cause, for metric labels and logs:
/// herd's own codes by their errc name ("timeout", "server_busy", ...),
/// "cancelled" for operation_aborted, "socket" for other system errors.
std::string_view cause_name(std::error_code ec) noexcept;

/// errc for an HTTP status that is not 2xx.
errc errc_from_status(int status) noexcept;

/// The text of a node's error answer as a failure's message: "HTTP 502"
/// when `text` (the answer's "error" field, else its body) is empty; else
/// at most its first 300 bytes, cut on a UTF-8 boundary and followed by
/// "... (N bytes)", with control characters as spaces, so that a proxy's
/// HTML page or a garbage body stays one readable log line. Throws only
/// std::bad_alloc.
std::string error_text(int status, std::string_view text);

/// One node's part of a failure: which node and what it said.
struct node_cause {
    std::string node;    ///< the node's URL
    std::error_code code;
    std::string message; ///< the server's own error text when it sent one
};

/// The exception thrown by herd's throwing APIs. `code()` is the overall
/// condition (for a request that failed everywhere: errc::all_nodes_failed);
/// `causes()` lists each node's last failure; `status()` is the HTTP status of
/// a node's error answer (0 when the failure was not an HTTP answer).
class error : public std::system_error {
public:
    error(std::error_code code, std::string what, int status = 0,
          std::vector<node_cause> causes = {})
        : std::system_error(code, std::move(what)), status_(status), causes_(std::move(causes)) {}

    int status() const noexcept { return status_; }
    const std::vector<node_cause>& causes() const noexcept { return causes_; }

private:
    int status_;
    std::vector<node_cause> causes_;
};

/// A failure as it travels inside herd before it becomes an `error` or an
/// `error_code`: the code plus the text and status a node gave.
struct failure {
    failure() = default;
    failure(std::error_code c, std::string m = {}, int s = 0, std::vector<node_cause> nc = {})
        : code(c), message(std::move(m)), status(s), causes(std::move(nc)) {}
    failure(errc e, std::string m = {}) : failure(make_error_code(e), std::move(m)) {}

    std::error_code code;
    std::string message;
    int status = 0;
    std::vector<node_cause> causes;

    explicit operator bool() const noexcept { return static_cast<bool>(code); }
    [[noreturn]] void raise() const;
    /// "message" or the code's own text when the node sent none.
    std::string describe() const;
};

} // namespace herd

template <>
struct std::is_error_code_enum<herd::errc> : std::true_type {};
