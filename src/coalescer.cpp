#include "pool_impl.hpp"

namespace herd {

awaitable<embed_outcome> pool::impl::embed_one(std::string_view text, const embed_options& options) {
    std::string_view one[1] = {text};
    co_return co_await run_embed(params_for(options), one, options.priority);
}

} // namespace herd
