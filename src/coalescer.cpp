#include "pool_impl.hpp"

#include <herd/async/race.hpp>
#include <herd/async/stats.hpp>
#include <herd/async/task_group.hpp>

#include <algorithm>

namespace herd {

namespace {

// Nothing in flight on `n`, hedge losers still on its connections included.
bool idle(node* n) { return n && n->in_flight() == 0 && n->http().in_flight() == 0; }

} // namespace

awaitable<embed_outcome> pool::impl::embed_single(std::string_view text, embed_options options) {
    embed_outcome out;
    auto state = co_await ::asio::this_coro::cancellation_state;
    if (detail::was_cancelled(state)) { // cancelled before it started
        out.fail = failure{::asio::error::operation_aborted, "cancelled"};
        co_return out;
    }
    auto params = params_for(options);
    std::string_view one[1] = {text};
    if (!config.coalesce) {
        out = co_await run_embed(params, one, options.priority);
        co_return out;
    }
    // A few distinct parameter sets at most: compared in place, no key built per call.
    auto it = std::find_if(coalescers.begin(), coalescers.end(),
                           [&](const coalescer& known) { return known.params == params; });
    if (it == coalescers.end()) it = coalescers.insert(coalescers.end(), coalescer{params, {}, 0});
    coalescer& c = *it;

    if (c.open.empty() && c.in_flight < capacity(c.params.model) &&
        (c.in_flight == 0 || idle(route(c.params.model, {})))) {
        // Nobody waiting and nothing of ours in flight, or the node a request
        // would go to is idle: a lone caller goes at once, in its own
        // coroutine, and pays nothing for coalescing. Otherwise it would
        // queue behind that node's request and pay the per-request cost
        // again; waiting here it leaves with the others when one of ours
        // returns (one is in flight, so one will).
        ++c.in_flight;
        coalesced_sizes.observe(1.0); // a request of one, in the sizes' histogram too
        out = co_await run_embed(c.params, one, options.priority);
        --c.in_flight;
        flush(c); // callers that piled up meanwhile
        co_return out;
    }
    // Each node has one of ours, or the node it would go to is busy: wait
    // with the others; the next request to return takes the pile as one
    // batch (no timer: it leaves as soon as there is room), or the pile
    // leaves at once when it is big enough (see flush).
    auto w = std::make_shared<coalesce_waiter>(ex, text, options.priority);
    c.open.push_back(w);
    if (c.open.size() >= big_pile()) flush(c);
    co_await w->signal.async_wait(compat::use_nothrow);
    if (!w->done) { // cancelled: leave the open batch if still there
        w->abandoned = true;
        std::erase(c.open, w);
        out.fail = failure{::asio::error::operation_aborted, "cancelled"};
        co_return out;
    }
    if (w->fail) {
        out.fail = std::move(w->fail);
        co_return out;
    }
    auto n = w->embedding.size();
    out.reply.embeddings.storage() = std::move(w->embedding); // the row, not a copy
    out.reply.embeddings.set_shape(1, n);
    co_return out;
}

std::size_t pool::impl::capacity(const std::string& model) {
    // One request of a coalescer per node, not the nodes' concurrency
    // limits: Ollama runs an embedding model one request at a time
    // (whatever OLLAMA_NUM_PARALLEL says), so a second request only queues
    // at the node and pays the per-request cost again; texts waiting here
    // leave together, as one request, when one returns. (With the limits,
    // 6 closed-loop single-text clients on 3 nodes were never coalesced.)
    std::size_t total = 0;
    for (auto& n : nodes)
        if (eligible(*n, model)) ++total;
    return std::max<std::size_t>(total, 1);
}

std::size_t pool::impl::big_pile() const noexcept {
    // Half a batch, not a whole one: 64 closed-loop callers never pile up 64
    // (one of them is always in flight), and at half they went from half
    // the rate of no coalescing to above it (bench/README.md).
    return std::max<std::size_t>(config.max_batch / 2, 1);
}

bool pool::impl::may_queue_behind(const std::string& model, std::size_t batch_size) {
    // Two full batches within a quarter of one attempt's timeout, by the
    // node's learnt costs; unknown costs (no answers yet) say no. On a CPU
    // node taking 0.6 s a text, a 32-text request queued behind another
    // would run past request_timeout and be sent again.
    node* n = route(model, {});
    if (!n) return false;
    const auto& costs = n->service(model);
    return costs.known() && 2 * costs.predict(batch_size) <= seconds(config.request_timeout) / 4;
}

void pool::impl::flush(coalescer& c) {
    const std::size_t batch_size = std::max<std::size_t>(config.max_batch, 1);
    // A big pile also goes when each node already has one of ours (up to
    // two each) and the node is quick (may_queue_behind): it queues behind
    // that request, so the node starts it the moment it answers instead of
    // idling while we read the answer and send again (on a node answering
    // in microseconds that idling halved the rate: bench/README.md). A
    // smaller pile waits to grow.
    const auto room = [&] {
        const std::size_t nodes = capacity(c.params.model);
        if (c.in_flight < nodes) return true;
        return c.open.size() >= big_pile() && c.in_flight < 2 * nodes &&
               may_queue_behind(c.params.model, batch_size);
    };
    while (!c.open.empty() && room()) {
        std::size_t n = std::min(batch_size, c.open.size());
        std::vector<std::shared_ptr<coalesce_waiter>> batch(c.open.begin(), c.open.begin() + static_cast<std::ptrdiff_t>(n));
        c.open.erase(c.open.begin(), c.open.begin() + static_cast<std::ptrdiff_t>(n));
        ++c.in_flight;
        coalesced_sizes.observe(static_cast<double>(n));
        ::asio::co_spawn(ex, run_coalesced(shared_from_this(), c, std::move(batch)), ::asio::detached);
    }
}

awaitable<void> pool::impl::run_coalesced(std::shared_ptr<impl>, coalescer& c,
                                          std::vector<std::shared_ptr<coalesce_waiter>> batch) {
    co_await settle(c, batch);
    --c.in_flight;
    flush(c);
}

awaitable<void> pool::impl::settle(coalescer& c, std::span<const std::shared_ptr<coalesce_waiter>> batch) {
    std::vector<std::string_view> texts;
    int priority = semaphore::min_priority;
    for (auto& w : batch) {
        texts.push_back(w->text);
        priority = std::max(priority, w->priority);
    }
    auto out = co_await run_embed(c.params, texts, priority);
    // A 400 names no input: Ollama rejects the whole request when any one
    // text is bad (over-long with truncate=false). Halve and resend, so
    // only the bad texts fail. Callers who left meanwhile are not resent.
    if (out.fail.code == errc::bad_request && batch.size() > 1) {
        std::vector<std::shared_ptr<coalesce_waiter>> live;
        for (auto& w : batch)
            if (!w->abandoned) live.push_back(w);
        if (live.size() > 1) {
            auto half = live.size() / 2;
            std::span<const std::shared_ptr<coalesce_waiter>> all(live);
            task_group halves(ex);
            halves.spawn(settle(c, all.first(half)));
            halves.spawn(settle(c, all.subspan(half)));
            co_await halves.join();
            co_return;
        }
        batch = live; // one caller left: its own 400
    }
    for (std::size_t i = 0; i < batch.size(); ++i) {
        auto& w = *batch[i];
        if (out.fail) w.fail = out.fail;
        else if (batch.size() == 1) w.embedding = out.reply.embeddings.release();
        else w.embedding = out.reply.embeddings.copy_row(i);
        w.done = true;
        w.signal.cancel();
    }
}

} // namespace herd
