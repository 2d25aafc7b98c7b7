#pragma once
// An event as a JSON value, shared by to_json(event) and the stats JSON.

#include <herd/events.hpp>

#include <nlohmann/json.hpp>

namespace herd::detail {

nlohmann::json as_json(const event& e);

} // namespace herd::detail
