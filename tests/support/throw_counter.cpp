#include "throw_counter.hpp"

#include <dlfcn.h>
#include <typeinfo>

namespace {
thread_local std::uint64_t thrown = 0; // per thread: in-process sim nodes run on others
}

std::uint64_t herd::test::exceptions_thrown() noexcept { return thrown; }

extern "C" [[noreturn]] void __cxa_throw(void* object, std::type_info* type, void (*destroy)(void*)) {
    using real_throw = void (*)(void*, std::type_info*, void (*)(void*));
    static auto real = reinterpret_cast<real_throw>(dlsym(RTLD_NEXT, "__cxa_throw"));
    ++thrown;
    real(object, type, destroy);
    __builtin_unreachable();
}
