#pragma once
// The route table of `herd serve`: exact paths to handlers per method, a
// fallback for every other path. Layers add their routes (the Ollama API,
// the OpenAI API, metrics) to one router before the server starts.
//
// Matching is on request::path() (the target before '?'), exactly. A GET
// route also answers HEAD (the response then carries the head only). A path
// with routes but none for the method is answered 405 `405 method not
// allowed` with an `Allow` header; a path without routes goes to the
// fallback, by default 404 `404 page not found` (text/plain, as Gin, which
// Ollama runs, answers). Adding a route for a method and path that has one
// replaces it. The router must outlive the server's handlers; it is not
// changed while requests run.

#include "serve/http_server.hpp"

#include <map>
#include <string>

namespace herd::serve {

class router {
public:
    /// Routes `method` (upper case, "GET", "POST", ...) on `path` to `h`.
    router& add(std::string_view method, std::string_view path, handler h);
    /// Handles every path no route names.
    router& fallback(handler h);

    /// Dispatches one request (see the header).
    awaitable<void> operator()(request& req, response& res) const;
    /// A handler for http_server that dispatches through this router
    /// (which must outlive it).
    handler as_handler() const;

private:
    std::map<std::string, std::map<std::string, handler, std::less<>>, std::less<>> routes_; // path -> method -> h
    handler fallback_;
};

} // namespace herd::serve
