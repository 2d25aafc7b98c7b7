// The pool's public surface: the compiled coroutines behind the
// completion-token forms (pool.hpp's async_*), which report failure in a
// result instead of throwing, and the short embed forms built on them.
#include "pool_impl.hpp"

#include <herd/async/race.hpp>

namespace herd {

awaitable<result<std::vector<float>>> pool::embed_core(std::string_view text, embed_options options) {
    auto self = impl_;
    result<std::vector<float>> r;
    auto out = co_await self->embed_single(text, options);
    if (out.fail) r.fail = std::move(out.fail);
    else r.value = out.reply.embeddings.release(); // the decoded row itself
    co_return r;
}

awaitable<result<matrix>> pool::embed_many_core(std::span<const std::string_view> texts, embed_options options) {
    auto self = impl_;
    result<matrix> r;
    const batch_options batch = self->batch_for(options);
    auto report = co_await self->run_batch(nullptr, texts, nullptr, &r.value, batch);
    if (report.fail) {
        r.fail = std::move(report.fail);
        r.value = matrix{};
    }
    co_return r;
}

awaitable<result<matrix>> pool::embed_batch_core(std::span<const std::string_view> texts, batch_options options) {
    auto self = impl_;
    result<matrix> r;
    auto report = co_await self->run_batch(nullptr, texts, nullptr, &r.value, options);
    if (report.fail) {
        r.fail = std::move(report.fail);
        r.value = matrix{};
    }
    co_return r;
}

awaitable<result<batch_report>> pool::embed_stream_core(batch_source& source, batch_sink& sink,
                                                        batch_options options) {
    auto self = impl_;
    result<batch_report> r;
    r.value = co_await self->run_batch(&source, {}, &sink, nullptr, options);
    r.fail = r.value.fail;
    co_return r;
}

// Completions still report failure by throwing inside (chat.cpp); the
// exception reaches the handler as its code (async/completion.hpp).
awaitable<result<chat_response>> pool::completion_core(const completion_request& request) {
    auto self = impl_;
    result<chat_response> r;
    r.value = co_await self->whole(request);
    co_return r;
}

awaitable<result<completion_stream>> pool::stream_core(const completion_request& request) {
    auto self = impl_;
    result<completion_stream> r;
    r.value = co_await self->open_stream(request, false); // the caller paces a stream
    co_return r;
}

awaitable<result<std::vector<node_cause>>> pool::prewarm_core(const std::string& model,
                                                              std::span<const std::string> nodes,
                                                              const std::string& keep_alive) {
    result<std::vector<node_cause>> r;
    r.value = co_await prewarm(model, nodes, keep_alive);
    co_return r;
}

awaitable<result<void>> pool::refresh_core() {
    co_await refresh_models();
    co_return result<void>{};
}

awaitable<result<embed_outcome>> pool::request_core(std::span<const std::string_view> texts, embed_options options) {
    auto self = impl_;
    auto params = self->params_for(options);
    result<embed_outcome> r;
    r.value = co_await self->run_embed(params, texts, options.priority);
    r.fail = r.value.fail;
    co_return r;
}

awaitable<std::vector<float>> pool::embed(std::string_view text, embed_options options) {
    // One frame fewer than embed_core behind without_cancel_throws: this
    // is the call services make per query.
    auto self = impl_;
    const bool threw_if_cancelled = co_await ::asio::this_coro::throw_if_cancelled();
    co_await ::asio::this_coro::throw_if_cancelled(false);
    auto out = co_await self->embed_single(text, options);
    co_await ::asio::this_coro::throw_if_cancelled(threw_if_cancelled);
    if (out.fail) out.fail.raise();
    co_return out.reply.embeddings.release();
}

awaitable<matrix> pool::embed(std::span<const std::string_view> texts, embed_options options) {
    auto r = co_await without_cancel_throws(embed_many_core(texts, options));
    if (r.fail) r.fail.raise();
    co_return std::move(r.value);
}

awaitable<matrix> pool::embed(std::span<const std::string> texts, embed_options options) {
    std::vector<std::string_view> views(texts.begin(), texts.end());
    co_return co_await embed(std::span<const std::string_view>(views), options);
}

awaitable<matrix> pool::embed(std::initializer_list<std::string_view> texts, embed_options options) {
    // Not a coroutine: the list lives until the caller's co_await ends.
    return embed(std::span<const std::string_view>(texts.begin(), texts.size()), options);
}

awaitable<embed_outcome> pool::embed_request(std::span<const std::string_view> texts, embed_options options) {
    auto r = co_await without_cancel_throws(request_core(texts, options));
    co_return std::move(r.value);
}

} // namespace herd
