#pragma once
// What a node can do, measured by a client that is not herd: the baseline
// herd's batch engine is judged against (bench_batch, herd demo, bench/live).
//
// A deliberately plain client: blocking sockets, one thread per
// connection, one request at a time per connection, fixed batches of texts
// per /api/embed request, nothing adaptive. None of herd's pool, routing,
// limiter, connection or decoder is used (only the llhttp wrapper to find
// where a response ends), so herd's own behaviour cannot leak into the
// figure it is compared with.
//
// A node's capacity is the rate at the best point of a sweep of batch
// sizes (all of them at depth 2: one request served while the next waits)
// and then of in-flight depths at the best batch size, measured again over
// a longer run: the best of several short runs is biased towards the run
// that met no slow request, the long run meets them at their usual rate.
// Every node of the list is measured at the same time, as herd would use
// them.
//
// Errors: throws std::runtime_error naming the node when a request fails
// (refused, non-200, malformed), since a capacity measured over failures
// measures nothing. Every measurement is bounded in requests and time.

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

namespace herd::baseline {

struct sweep_options {
    std::vector<std::size_t> batches{8, 16, 32, 64}; ///< texts per request, tried at depth 2
    std::vector<std::size_t> depths{1, 2, 3, 4};      ///< requests in flight, tried at the best batch
    /// Each point runs at least this long (and at least two requests per
    /// connection), then lets the requests in flight finish.
    std::chrono::duration<double> point_time{2.0};
    /// The best point is measured again for this long: its rate is the capacity.
    std::chrono::duration<double> confirm_time{10.0};
    std::size_t max_requests = 10000;                 ///< per point, a bound on the loop
    std::chrono::duration<double> max_point_time{60.0}; ///< per point, a bound on the loop
};

struct rate_point {
    std::size_t batch = 0, depth = 0;
    std::size_t texts = 0;    ///< texts embedded
    double seconds = 0;       ///< from the first send to the last answer
    double rate() const noexcept { return seconds > 0 ? static_cast<double>(texts) / seconds : 0; }
};

struct node_capacity {
    std::string url;
    rate_point best;              ///< the long run at the sweep's best point
    std::vector<rate_point> sweep;
};

/// Texts per second each of `urls` reaches with `model` over `texts`
/// (cycled), measured all at once. See the header comment.
std::vector<node_capacity> measure_capacity(const std::vector<std::string>& urls, const std::string& model,
                                            const std::vector<std::string>& texts, const sweep_options& options = {});

/// One point: `depth` connections sending requests of `batch` texts.
rate_point measure_point(const std::string& url, const std::string& model, const std::vector<std::string>& texts,
                         std::size_t batch, std::size_t depth, const sweep_options& options = {});

} // namespace herd::baseline
