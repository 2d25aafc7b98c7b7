#pragma once
// The batch engine's bookkeeping (src/batch.cpp): a window of inputs in
// flight, the nodes a batch uses, its totals. Private to batch.cpp.

#include "pool_impl.hpp"

#include <herd/async/steal_deque.hpp>
#include <herd/async/task_group.hpp>

#include <deque>
#include <list>

namespace herd::batch_detail {

// A micro-batch on its way to a node: the candidate for a backup task.
struct flight {
    std::vector<std::uint32_t> indices;
    std::size_t node_index;
    time_point started;
    bool backed_up = false;
};

// How one node's micro-batches are sized within this batch.
struct lane {
    std::size_t sent = 0; // requests of texts taken from the queue (backups not counted)
};

// A node this batch has used. Slots are never reused: a removed node keeps
// its slot (and stays alive through `n`) until the batch ends.
struct member {
    std::shared_ptr<node> n;
    bool removed = false;
};

// Totals over the whole batch (all windows of a stream). Deques, so that
// references stay valid while nodes join.
struct batch_totals {
    time_point started = clock::now();
    std::size_t done = 0, total = 0, retries = 0, backups = 0, steals = 0;
    std::vector<std::size_t> per_node;
    std::deque<lane> lanes;
    std::deque<member> members;
};

// One window of inputs being embedded.
struct window_job {
    window_job(const executor& ex, std::span<const std::string_view> t, std::size_t nodes, batch_totals& tot)
        : texts(t), done(t.size(), 0), remaining(t.size()), queue(ex, nodes), totals(tot), group(ex) {}

    std::span<const std::string_view> texts;
    matrix out;
    std::vector<std::uint8_t> done;
    std::size_t remaining;
    steal_deque<std::uint32_t> queue;
    std::list<flight> flights;
    std::vector<node_cause> causes;
    batch_totals& totals;
    task_group group;
    failure fail;
    bool finished = false;
    time_point last_success = clock::now();
    time_point last_eligible = clock::now();
    std::size_t failures_since_success = 0;

    void finish() {
        if (finished) return;
        finished = true;
        queue.close();
        group.cancel(); // workers waiting for permits or probes stop now
    }
};

} // namespace herd::batch_detail
