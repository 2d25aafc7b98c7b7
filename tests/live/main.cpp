// The live test program: Catch2's own main, except that without real nodes
// (HERD_TEST_NODES unset) every test exits with live::skip_code, which
// ctest reports as "Skipped" (SKIP_RETURN_CODE) instead of a pass that
// tested nothing. Listing tests (ctest discovery) always works.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include "live/live_env.hpp"

#include <cstdio>

int main(int argc, char** argv) {
    Catch::Session session;
    if (int rc = session.applyCommandLine(argc, argv)) return rc;
    const auto& c = session.configData();
    bool listing = c.listTests || c.listTestNamesOnly || c.listTags || c.listReporters || c.showHelp;
    if (!listing && !herd::live::enabled()) {
        std::printf("skipped: HERD_TEST_NODES is not set; these tests need real Ollama servers "
                    "(run scripts/live-test)\n");
        return herd::live::skip_code;
    }
    return session.run();
}
