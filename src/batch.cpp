// The corpus engine (see include/herd/batch.hpp for the contract).
#include "batch_job.hpp"

#include <fmt/format.h>

namespace herd {

using namespace batch_detail;

namespace {

progress snapshot(const batch_totals& t) {
    progress p;
    p.done = t.done;
    p.total = t.total;
    p.seconds = seconds(clock::now() - t.started);
    p.rate = p.seconds > 0 ? static_cast<double>(t.done) / p.seconds : 0;
    p.retries = t.retries;
    p.backups = t.backups;
    p.per_node = t.per_node;
    for (auto& m : t.members) p.node_urls.push_back(m.n->name());
    return p;
}

// "3 of 10 inputs not embedded: 4, 5, 9"
std::string not_done_list(const window_job& job, std::size_t base) {
    std::string out = fmt::format("{} of {} inputs not embedded:", job.remaining, job.texts.size());
    std::size_t listed = 0;
    for (std::size_t i = 0; i < job.done.size() && listed < 20; ++i)
        if (!job.done[i]) {
            out += fmt::format(" {}", base + i);
            ++listed;
        }
    if (job.remaining > listed) out += " ...";
    return out;
}

} // namespace

struct pool::impl::batch_run {
    impl& pool;
    const ollama::embed_params& params;
    const batch_options& options;
    batch_totals& totals;
    std::size_t base; // index of the window's first input in the whole batch
    std::uint64_t id; // the call's request id (events.hpp)

    void fail(window_job& job, failure f) {
        if (job.finished) return;
        job.fail = std::move(f);
        job.fail.message = job.fail.describe() + "; " + not_done_list(job, base);
        if (job.fail.causes.empty()) job.fail.causes = job.causes;
        job.finish();
    }

    void note_cause(window_job& job, node& n, const failure& f) {
        std::erase_if(job.causes, [&](auto& c) { return c.node == n.name(); });
        job.causes.push_back({n.name(), f.code, f.describe()});
    }

    node& at(std::size_t ni) { return *totals.members[ni].n; }
    bool removed(std::size_t ni) const { return totals.members[ni].removed; }
    /// Member `ni` may be given work now.
    bool usable(std::size_t ni) { return !removed(ni) && pool.eligible(at(ni), params.model); }

    // Brings the member list up to date with the pool: a node new to the
    // pool gets a slot, a node gone from it is marked removed. Returns the
    // new slots.
    std::vector<std::size_t> sync_members() {
        for (auto& m : totals.members)
            m.removed = std::none_of(pool.nodes.begin(), pool.nodes.end(), [&](auto& n) { return n == m.n; });
        std::vector<std::size_t> added;
        for (auto& n : pool.nodes) {
            bool known = std::any_of(totals.members.begin(), totals.members.end(), [&](auto& m) { return m.n == n; });
            if (known) continue;
            added.push_back(totals.members.size());
            totals.members.push_back({n, false});
            totals.lanes.emplace_back();
            totals.per_node.push_back(0);
        }
        return added;
    }

    // A node joined or left while this window runs: a newcomer gets a deque
    // and workers (they steal at once); a removed node's queued texts go to
    // the nodes left (its in-flight requests finish, see backup_candidate).
    void on_membership(window_job& job) {
        if (job.finished) return;
        for (auto ni : sync_members()) {
            job.queue.add_queue();
            job.group.spawn(crew(job, ni));
        }
        rehome(job);
        job.queue.notify_all(); // removed nodes' idle workers leave, others look for work
    }

    // Moves what sits in removed members' deques to the usable (else any
    // present) member with the least queued.
    void rehome(window_job& job) {
        std::vector<std::size_t> to;
        for (std::size_t i = 0; i < totals.members.size(); ++i)
            if (usable(i)) to.push_back(i);
        if (to.empty())
            for (std::size_t i = 0; i < totals.members.size(); ++i)
                if (!removed(i)) to.push_back(i);
        if (to.empty()) return; // no node at all: kept until one is added
        for (std::size_t from = 0; from < totals.members.size(); ++from) {
            if (!removed(from)) continue;
            while (auto i = job.queue.try_pop_own(from)) {
                auto target = *std::min_element(to.begin(), to.end(), [&](auto a, auto b) {
                    return job.queue.size(a) < job.queue.size(b);
                });
                job.queue.push(target, *i);
            }
        }
    }

    // A member's workers, in a group of their own (started when the window
    // starts or the node joins; cancelled with the window).
    awaitable<void> crew(window_job& job, std::size_t ni) {
        task_group workers(pool.ex);
        auto count = static_cast<std::size_t>(std::clamp(pool.config.limiter.max_limit, 1.0, 32.0));
        for (std::size_t w = 0; w < count; ++w) workers.spawn(worker(job, ni));
        try {
            co_await workers.join();
        } catch (const std::system_error&) {
        }
    }

    // Seeds the deques in proportion to each node's measured speed.
    void seed(window_job& job) {
        auto now = clock::now();
        std::vector<double> weight(totals.members.size(), 0);
        double sum = 0;
        for (std::size_t i = 0; i < totals.members.size(); ++i) {
            auto& n = at(i);
            if (!usable(i)) continue;
            // What the node can do with full batches; else what it did lately.
            const auto& model = n.service(params.model);
            double speed = model.known() ? model.throughput(options.max_batch) : n.inputs_per_second(now);
            weight[i] = std::max(speed, 1.0);
            sum += weight[i];
        }
        if (sum == 0) { // nobody eligible now: park everything on one present node
            std::size_t park = 0;
            while (park + 1 < weight.size() && removed(park)) ++park;
            weight[park] = sum = 1;
        }
        std::size_t next = 0, last = 0; // the last weighted member takes the rounding rest
        for (std::size_t i = 0; i < weight.size(); ++i)
            if (weight[i] > 0) last = i;
        for (std::size_t i = 0; i <= last; ++i) {
            auto share = static_cast<std::size_t>(static_cast<double>(job.texts.size()) * weight[i] / sum + 0.5);
            if (i == last) share = job.texts.size() - next;
            for (std::size_t k = 0; k < share && next < job.texts.size(); ++k)
                job.queue.push(i, static_cast<std::uint32_t>(next++));
        }
    }

    // Up to `k` undone indices: own deque first, then stolen, as many
    // steals as it takes (one steal moves half of a deque: near the end,
    // one each would make requests of 28, 14, 7... texts, each paying the
    // node's fixed cost).
    std::vector<std::uint32_t> take(window_job& job, std::size_t ni, std::size_t k) {
        std::vector<std::uint32_t> out;
        while (out.size() < k) {
            auto i = job.queue.try_pop_own(ni);
            if (!i) {
                if (job.queue.steal(ni) == 0) break;
                ++totals.steals;
                continue;
            }
            if (!job.done[*i]) out.push_back(*i);
        }
        return out;
    }

    // Seconds from now until node `ni` is expected to finish `upto` (null:
    // everything it has in flight). A node serves its requests one after
    // another: each ends one service time after it was sent or after the
    // one before it ended (the first: after the node's last answer),
    // whichever is later. Negative when overdue. With `pessimistic`, an
    // overdue request is taken to start its service only now.
    double expected_end(window_job& job, std::size_t ni, const flight* upto = nullptr, bool pessimistic = false) {
        const auto& model = at(ni).service(params.model);
        auto now = clock::now();
        double end = -seconds(now - model.last_end());
        for (auto& f : job.flights) {
            if (f.node_index != ni) continue;
            end = std::max({end, -seconds(now - f.started), pessimistic ? 0.0 : -1e300}) + model.predict(f.indices.size());
            if (&f == upto) break;
        }
        return end;
    }

    // Whether node `ni` already has enough in flight to stay busy until a
    // request sent after its next answer arrives: its work in flight ends
    // later than one more full request would take. More would only wait
    // in the node's queue (an Ollama embedding model serves one request at
    // a time), holding texts that another node may have to take back as
    // backups when the corpus runs out. Judged on service times (not on
    // latency, which counts that queue); no rule until they are known.
    bool queued_enough(window_job& job, std::size_t ni) {
        const auto& model = at(ni).service(params.model);
        if (!model.known()) return false;
        // Pessimistic: a request running late must not make room for a
        // second one to wait behind the one already waiting.
        return expected_end(job, ni, nullptr, true) > queue_horizon * model.predict(planned_batch(ni, 16));
    }

    // Whether node `ni` has never answered and already has a request of
    // this window in flight: its first answer sizes the next request (a
    // GPU node answering 4 texts in 17 ms gets a full one, a CPU node
    // taking 0.5 s a text gets one text), so nothing more is sent blind.
    // An embedding model serves one request at a time, so a request sent
    // meanwhile would only wait in the node's queue; a node with several
    // slots loses one round trip.
    bool awaiting_first_answer(window_job& job, std::size_t ni) {
        return !at(ni).service(params.model).answered() && in_flight(job, ni);
    }

    static bool in_flight(const window_job& job, std::size_t ni) {
        return std::any_of(job.flights.begin(), job.flights.end(), [&](auto& f) { return f.node_index == ni; });
    }

    // Whether node `ni` should leave what is left of the queue to a faster
    // node: another usable node would finish all of it before `ni` could
    // finish even its share. Near the end this keeps the last texts off a
    // slow node, from which they would come back as backups.
    bool leave_to_others(window_job& job, std::size_t ni) {
        const auto& mine = at(ni).service(params.model);
        const std::size_t left = job.queue.size();
        if (!mine.known() || left == 0 || left > 4 * options.max_batch) return false;
        const double my_end = std::max(expected_end(job, ni), 0.0) + mine.predict(std::min(left, planned_batch(ni, 16)));
        for (std::size_t i = 0; i < totals.members.size(); ++i) {
            if (i == ni || !usable(i)) continue;
            const auto& theirs = at(i).service(params.model);
            if (!theirs.known()) continue;
            const std::size_t k = planned_batch(i, 16);
            const double requests = std::ceil(static_cast<double>(left) / static_cast<double>(k));
            const double their_end = std::max(expected_end(job, i), 0.0) + requests * theirs.predict(k);
            if (their_end * backup_margin < my_end) return true;
        }
        return false;
    }

    // The oldest in-flight micro-batch of another node that node `self`
    // would finish well before its own node does (as the LATE scheduler
    // decides, on service times learnt apart from queueing): a backup that
    // cannot win is not started, so a healthy cluster does little twice.
    // A removed node's micro-batch is always a candidate: it is moved to
    // a node that stays as soon as one is idle.
    flight* backup_candidate(window_job& job, std::size_t self) {
        for (auto& f : job.flights)
            if (!f.backed_up && removed(f.node_index) &&
                std::any_of(f.indices.begin(), f.indices.end(), [&](auto i) { return !job.done[i]; }))
                return &f;
        if (!at(self).service(params.model).known()) return nullptr;
        auto now = clock::now();
        for (auto& f : job.flights) {
            if (f.backed_up || f.node_index == self) continue;
            if (now - f.started < options.backup_after) break; // flights are in start order
            if (std::none_of(f.indices.begin(), f.indices.end(), [&](auto i) { return !job.done[i]; })) continue;
            const auto& theirs = at(f.node_index).service(params.model);
            // Overdue (or no estimate): a straggler, expected to need about
            // as long again as it has taken.
            double their_left = theirs.known() ? expected_end(job, f.node_index, &f) : -1;
            if (their_left <= 0) their_left = seconds(now - f.started);
            double mine = std::max(expected_end(job, self), 0.0) + at(self).service(params.model).predict(f.indices.size());
            if (mine * backup_margin < their_left) return &f;
        }
        return nullptr;
    }

    // Puts undone indices back, on the eligible node with the least work
    // other than `failed` (the node that just failed them, for `why`; a
    // removed one passes them on to the nodes left).
    void give_back(window_job& job, const std::vector<std::uint32_t>& indices, std::size_t failed,
                   const failure& why) {
        std::size_t target = failed;
        for (std::size_t i = 0; i < totals.members.size(); ++i) {
            if (i == failed || !usable(i)) continue;
            if (target == failed || job.queue.size(i) < job.queue.size(target)) target = i;
        }
        for (auto i : indices)
            if (!job.done[i]) job.queue.push(target, i);
        if (removed(target)) rehome(job);
        ++totals.retries;
        ++pool.batches_given_back;
        pool.emit(event_kind::batch_given_back, id, &at(failed), why.describe(),
                  static_cast<double>(indices.size()));
    }

    bool store(window_job& job, const std::vector<std::uint32_t>& indices, const matrix& rows, std::size_t ni) {
        if (job.out.empty() && job.out.dim() == 0) job.out = matrix(job.texts.size(), rows.dim());
        if (rows.dim() != job.out.dim()) return false;
        for (std::size_t r = 0; r < indices.size(); ++r) {
            auto i = indices[r];
            if (job.done[i]) continue; // a backup answered first
            std::copy_n(rows.row(r).data(), rows.dim(), job.out.row(i).data());
            job.done[i] = 1;
            --job.remaining;
            ++totals.done;
            ++totals.per_node[ni];
        }
        return true;
    }

    awaitable<void> pause(duration d) {
        ::asio::steady_timer t(co_await ::asio::this_coro::executor, d);
        co_await t.async_wait(::asio::use_awaitable); // throws when cancelled
    }

    // Leaves when the window finished or its node was removed (a removed
    // node's permits come back as its requests end, so none waits forever).
    awaitable<void> worker(window_job& job, std::size_t ni) {
        node& n = at(ni);
        lane& ln = totals.lanes[ni];
        try {
            while (!job.finished && !removed(ni)) {
                if (!pool.eligible(n, params.model)) {
                    if (n.health().ejected()) pool.ensure_probing();
                    co_await pause(pool.config.health.probe_interval);
                    continue;
                }
                auto permit = co_await n.limiter().acquire(options.priority);
                if (job.finished || removed(ni)) break;
                if (awaiting_first_answer(job, ni) || queued_enough(job, ni) || leave_to_others(job, ni)) {
                    permit.release();
                    co_await job.queue.wait(); // woken when a request ends (and by the ticker)
                    continue;
                }
                auto indices = take(job, ni, batch_size(job, ni, ln));
                if (!indices.empty()) ++ln.sent;
                bool is_backup = false;
                if (indices.empty()) {
                    flight* slow = options.backup_tasks && job.queue.size() == 0 ? backup_candidate(job, ni) : nullptr;
                    if (!slow) {
                        permit.release();
                        co_await job.queue.wait();
                        continue;
                    }
                    slow->backed_up = true;
                    for (auto i : slow->indices)
                        if (!job.done[i]) indices.push_back(i);
                    is_backup = true;
                    ++totals.backups;
                    ++pool.backup_tasks;
                }
                co_await send(job, ni, std::move(indices), is_backup, permit);
                job.queue.notify_all(); // idle workers may now back up or finish
            }
        } catch (const std::system_error&) {
            // cancelled: the window finished or the caller gave up
        }
    }

    awaitable<void> send(window_job& job, std::size_t ni, std::vector<std::uint32_t> indices, bool is_backup,
                         semaphore::permit& permit) {
        node& n = at(ni);
        auto it = job.flights.insert(job.flights.end(), flight{indices, ni, clock::now()});
        std::vector<std::string_view> batch;
        batch.reserve(indices.size());
        for (auto i : indices) batch.push_back(job.texts[i]);
        auto deadline = pool.attempt_deadline(n, params.model, time_point::max());
        auto outcome = co_await n.embed(params, batch, options.priority, deadline, &permit, id);
        permit.release();
        job.flights.erase(it);
        if (outcome.ok()) {
            // Workers waiting on this answer send first, then it is stored:
            // the first store allocates the window's matrix (32 MB for
            // 8,000 rows of 1,024 floats, tens of ms of page faults) and
            // would hold back the node's next request.
            job.queue.notify_all();
            co_await ::asio::post(co_await ::asio::this_coro::executor, ::asio::use_awaitable);
        }
        if (outcome.ok() && store(job, indices, outcome.reply.embeddings, ni)) {
            pool.embedded(indices.size());
            job.last_success = clock::now();
            job.failures_since_success = 0;
            if (job.remaining == 0) job.finish();
            co_return;
        }
        if (outcome.ok()) outcome.fail = failure{errc::protocol_error, n.name() + " returned vectors of another dimension"};
        if (outcome.fail.code == ::asio::error::operation_aborted) co_return;
        if (outcome.fail.code == errc::pipeline_aborted) { // another request's timeout: not this node's fault
            if (!is_backup) give_back(job, indices, ni, outcome.fail);
            co_return;
        }
        ++job.failures_since_success;
        note_cause(job, n, outcome.fail);
        if (n.health().ejected()) pool.ensure_probing();
        bool nowhere = std::all_of(pool.nodes.begin(), pool.nodes.end(),
                                   [&](auto& other) { return other->model(params.model) == model_state::absent; });
        if (!is_retryable(outcome.fail.code) && (outcome.fail.code != errc::model_not_found || nowhere)) {
            fail(job, outcome.fail); // 400: the input itself is refused; 404 from every node
            co_return;
        }
        if (!is_backup) give_back(job, indices, ni, outcome.fail);
    }

    // The batch size node `ni`'s costs call for (`first` until known),
    // within [min_batch, max_batch].
    std::size_t planned_batch(std::size_t ni, std::size_t first) {
        const std::size_t lo = std::max<std::size_t>(options.min_batch, 1);
        const std::size_t hi = std::max(options.max_batch, lo);
        return at(ni).service(params.model).batch_for(fixed_cost_share, options.target_request_time, lo, hi,
                                                      std::clamp(first, lo, hi));
    }

    // Texts for node `ni`'s next request: enough that its fixed cost is at
    // most 2% of the request (at 5%, a node paying 26 ms a request and
    // 21 ms a text ran 3% below a client sending it 64) and the request
    // fills target_request_time of service (see service_model). A node's
    // first request is small (its answer sizes the next ones). Every
    // eighth request is half size while the fit is young, every 32nd
    // after, so the sizes keep varying and the fit keeps the fixed cost
    // apart; on a node paying 17 ms a request a half-size one every eighth
    // cost 3.6% of its throughput. Near the end, no more than the node's
    // share of what is left over two requests (guided self-scheduling), so
    // the nodes finish together and few backups are needed. 0 (wait, look
    // again when a request ends) when the node has work in flight and even
    // `min_batch` more would end after the cluster is expected to have
    // finished.
    std::size_t batch_size(window_job& job, std::size_t ni, lane& ln) {
        const std::size_t lo = std::max<std::size_t>(options.min_batch, 1);
        const auto& model = at(ni).service(params.model);
        std::size_t k = planned_batch(ni, ln.sent == 0 ? 4 : 16);
        const std::size_t vary_every = model.samples() < young_fit ? 8 : 32;
        if ((ln.sent + 1) % vary_every == 0) k = std::max(k / 2, lo);
        if (model.known()) {
            double total = 0;
            for (std::size_t i = 0; i < totals.members.size(); ++i) {
                const auto& theirs = at(i).service(params.model);
                if (usable(i) && theirs.known()) total += theirs.throughput(k);
            }
            double share = total > 0 ? model.throughput(k) / total : 1;
            auto guided = static_cast<std::size_t>(std::ceil(static_cast<double>(job.queue.size()) * share / 2));
            // Never so small that the fixed cost is most of the request: a
            // node paying 17 ms a request does not split its last texts
            // into requests of 7, 3, 2 and 1.
            double floor = model.per_input() > 0 ? std::ceil(model.fixed() / model.per_input()) : 0;
            guided = std::max(guided, static_cast<std::size_t>(std::min(floor, static_cast<double>(k))));
            k = std::clamp(guided, lo, k);
            // Nor more than the node serves before the cluster is expected
            // to have done everything queued and in flight: a slow node's
            // large request taken late ends after the others finished, and
            // the corpus waits for it or for its backup.
            const double budget = cluster_finish(job) - std::max(expected_end(job, ni), 0.0);
            const double fits = model.per_input() > 0 ? (budget - model.fixed()) / model.per_input() : 1e9;
            if (fits < static_cast<double>(lo) && in_flight(job, ni)) return 0; // it would end last: wait
            if (fits < static_cast<double>(k)) k = std::max(static_cast<std::size_t>(std::max(fits, 0.0)), lo);
        }
        return k;
    }

    // Seconds from now until the usable nodes whose costs are known would
    // have embedded everything queued and in flight, each at its planned
    // batch's throughput; never less than the quickest of them needs for
    // one more request (its fixed cost is paid even for the last texts).
    double cluster_finish(window_job& job) {
        std::size_t work = job.queue.size();
        for (auto& f : job.flights) work += f.indices.size();
        double rate = 0, quickest = 1e9;
        for (std::size_t i = 0; i < totals.members.size(); ++i) {
            const auto& theirs = at(i).service(params.model);
            if (!usable(i) || !theirs.known()) continue;
            const std::size_t k = planned_batch(i, 16);
            rate += theirs.throughput(k);
            quickest = std::min(quickest, std::max(expected_end(job, i), 0.0) + theirs.predict(std::min(work, k)));
        }
        return rate > 0 ? std::max(static_cast<double>(work) / rate, quickest) : 1e9;
    }

    static constexpr double fixed_cost_share = 0.02;
    static constexpr std::size_t young_fit = 16; // samples below which sizes vary more often
    static constexpr double backup_margin = 1.5; // a backup must be expected to win by this factor
    static constexpr double queue_horizon = 1.0; // work in flight, in full requests, that keeps a node busy

    // Every `check` it wakes idle workers (a straggler may now deserve a
    // backup), reports progress every progress_interval, and gives up when
    // no node has been eligible for give_up_after, or when nothing has
    // succeeded for give_up_after while failures kept coming and no request
    // that could still succeed is in flight (a slow healthy node is waited
    // for: its request has its own deadline).
    awaitable<void> ticker(window_job& job) {
        const duration check = std::min<duration>(options.progress_interval, std::chrono::milliseconds(50));
        auto last_report = clock::now();
        try {
            while (!job.finished) {
                co_await pause(check);
                job.queue.notify_all();
                auto now = clock::now();
                if (options.on_progress && now - last_report >= options.progress_interval) {
                    options.on_progress(snapshot(totals));
                    last_report = now;
                }
                if (std::any_of(pool.nodes.begin(), pool.nodes.end(),
                                [&](auto& n) { return pool.eligible(*n, params.model); }))
                    job.last_eligible = now;
                bool none_for_long = now - job.last_eligible > options.give_up_after;
                bool failing = now - job.last_success > options.give_up_after && job.failures_since_success > 0 &&
                               job.flights.empty();
                if (none_for_long || failing) fail(job, failure{errc::all_nodes_failed, "every node failed"});
            }
        } catch (const std::system_error&) {
        }
    }

    awaitable<failure> run(window_job& job) {
        if (job.texts.empty()) co_return failure{};
        if (pool.nodes.empty()) co_return failure{errc::no_nodes, "the pool has no nodes"};
        seed(job);
        for (std::size_t ni = 0; ni < totals.members.size(); ++ni)
            if (!removed(ni)) job.group.spawn(crew(job, ni));
        job.group.spawn(ticker(job));
        // Told synchronously by add_node / remove_node while this window runs.
        auto& watchers = pool.membership_watchers;
        auto watch = watchers.insert(watchers.end(), [this, &job] { on_membership(job); });
        failure out = job.fail;
        try {
            co_await job.group.join();
            out = job.fail;
        } catch (const std::system_error& e) {
            out = failure{e.code(), "batch cancelled"};
        }
        watchers.erase(watch);
        co_return out;
    }
};

awaitable<batch_report> pool::impl::run_batch(batch_source* source, std::span<const std::string_view> texts,
                                              batch_sink* sink, matrix* whole, const batch_options& options) {
    embed_options as_embed{options.model,    options.priority,   options.dimensions,
                           options.truncate, options.keep_alive, options.options};
    auto params = params_for(as_embed);
    batch_totals totals;
    const auto id = new_request_id();
    batch_report report;
    std::vector<std::string> buffer;
    std::vector<std::string_view> views;
    std::size_t base = 0;
    for (;;) {
        std::span<const std::string_view> window = texts;
        if (source) {
            buffer.clear();
            if (source->read(buffer, std::max<std::size_t>(options.window, 1)) == 0) break;
            views.assign(buffer.begin(), buffer.end());
            window = views;
        }
        totals.total += window.size();
        batch_run run{*this, params, options, totals, base, id};
        run.sync_members();
        window_job job(ex, window, totals.members.size(), totals);
        report.fail = co_await run.run(job);
        if (report.fail) break;
        if (sink) sink->write(base, job.out);
        if (whole) *whole = std::move(job.out);
        base += window.size();
        if (!source) break;
    }
    if (options.on_progress) options.on_progress(snapshot(totals));
    report.inputs = totals.done;
    report.seconds = seconds(clock::now() - totals.started);
    report.retries = totals.retries;
    report.backups = totals.backups;
    report.steals = totals.steals;
    report.per_node = totals.per_node;
    for (auto& m : totals.members) report.node_urls.push_back(m.n->name());
    co_return report;
}

awaitable<matrix> pool::embed_batch(std::span<const std::string_view> texts, batch_options options) {
    auto self = impl_;
    matrix out;
    auto report = co_await self->run_batch(nullptr, texts, nullptr, &out, options);
    if (report.fail) report.fail.raise();
    co_return out;
}

awaitable<matrix> pool::embed_batch(std::span<const std::string> texts, batch_options options) {
    std::vector<std::string_view> views(texts.begin(), texts.end());
    co_return co_await embed_batch(std::span<const std::string_view>(views), options);
}

awaitable<batch_report> pool::embed_stream(batch_source& source, batch_sink& sink, batch_options options) {
    auto self = impl_;
    co_return co_await self->run_batch(&source, {}, &sink, nullptr, options);
}

} // namespace herd
