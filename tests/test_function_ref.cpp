// batch_options::on_progress binds only to a named callable: the form that
// would dangle does not compile (checked here with requires-expressions, so
// this file compiling is the test), and a bound callable is called in place.
#include <herd/batch.hpp>

#include <catch2/catch.hpp>

#include <type_traits>

using namespace herd;

namespace {

using progress_ref = function_ref<void(const progress&)>;

// True when `batch_options o{.on_progress = <a temporary F>}` compiles.
template <typename F>
concept takes_temporary = requires { batch_options{.on_progress = F{}}; };
template <typename F>
concept takes_named = requires(F& f) { batch_options{.on_progress = f}; };

struct counter {
    int* calls;
    void operator()(const progress&) const { ++*calls; }
};

} // namespace

TEST_CASE("function_ref: a temporary callable is rejected at compile time, a named one is taken") {
    auto generic = [](auto&) {};
    using generic_lambda = decltype(generic);
    static_assert(!takes_temporary<generic_lambda>);
    static_assert(!takes_temporary<counter>);
    static_assert(!std::is_constructible_v<progress_ref, generic_lambda>);
    static_assert(!std::is_constructible_v<progress_ref, generic_lambda&&>);
    static_assert(!std::is_constructible_v<progress_ref, const counter&&>);
    static_assert(takes_named<generic_lambda>);
    static_assert(takes_named<const counter>);
    static_assert(std::is_constructible_v<progress_ref, counter&>);
    static_assert(!std::is_constructible_v<progress_ref, int&>); // not callable
    // What keeps the options safe to write inside a co_await expression.
    static_assert(std::is_trivially_destructible_v<batch_options>);
    static_assert(std::is_trivially_copyable_v<progress_ref>);
    SUCCEED("the static_asserts above hold");
}

TEST_CASE("function_ref: calls the named callable itself, not a copy") {
    int calls = 0;
    counter c{&calls};
    batch_options o{.on_progress = c};
    REQUIRE(o.on_progress);
    o.on_progress(progress{});
    o.on_progress(progress{});
    CHECK(calls == 2);
    std::size_t seen = 0;
    auto keep = [&](const progress& p) { seen = p.done; };
    progress_ref copy = keep;
    progress_ref again = copy; // copies refer to the same callable
    again(progress{.done = 7});
    CHECK(seen == 7);
    CHECK_FALSE(batch_options{}.on_progress);
}
