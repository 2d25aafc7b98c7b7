#include "sim/fault.hpp"

#include "sim/json_util.hpp"

namespace herd::sim {

bool fault_spec::none() const noexcept {
    return !refuse && !reset_mid_body && !hang && error_rate <= 0 && error_every == 0 && !busy && !garbage &&
           slow_drip_bytes == 0 && die_after == 0 && come_back_after.count() <= 0 && wrong_count == 0 &&
           !reverse_order && !stream_error_after;
}

void to_json(nlohmann::json& j, const fault_spec& f) {
    j = nlohmann::json{
        {"refuse", f.refuse},
        {"reset_mid_body", f.reset_mid_body},
        {"hang", f.hang},
        {"error_rate", f.error_rate},
        {"error_every", f.error_every},
        {"error_message", f.error_message},
        {"busy", f.busy},
        {"garbage", f.garbage},
        {"slow_drip_bytes", f.slow_drip_bytes},
        {"slow_drip_interval", f.slow_drip_interval.count()},
        {"die_after", f.die_after},
        {"come_back_after", f.come_back_after.count()},
        {"wrong_count", f.wrong_count},
        {"reverse_order", f.reverse_order},
        {"stream_error_after", f.stream_error_after ? nlohmann::json(*f.stream_error_after) : nlohmann::json()},
    };
}

fault_spec fault_from_json(const nlohmann::json& j) {
    check_fields(j,
                 {"refuse", "reset_mid_body", "hang", "error_rate", "error_every", "error_message", "busy", "garbage",
                  "slow_drip_bytes", "slow_drip_interval", "die_after", "come_back_after", "wrong_count",
                  "reverse_order", "stream_error_after"},
                 "fault");
    fault_spec f;
    read_field(j, "refuse", f.refuse);
    read_field(j, "reset_mid_body", f.reset_mid_body);
    read_field(j, "hang", f.hang);
    read_field(j, "error_rate", f.error_rate);
    read_field(j, "error_every", f.error_every);
    read_field(j, "error_message", f.error_message);
    read_field(j, "busy", f.busy);
    read_field(j, "garbage", f.garbage);
    read_field(j, "slow_drip_bytes", f.slow_drip_bytes);
    read_field(j, "slow_drip_interval", f.slow_drip_interval);
    read_field(j, "die_after", f.die_after);
    read_field(j, "come_back_after", f.come_back_after);
    read_field(j, "wrong_count", f.wrong_count);
    read_field(j, "reverse_order", f.reverse_order);
    std::uint64_t after = 0;
    if (j.contains("stream_error_after") && !j["stream_error_after"].is_null()) {
        read_field(j, "stream_error_after", after);
        f.stream_error_after = after;
    }
    if (f.error_rate < 0 || f.error_rate > 1) throw std::invalid_argument("fault: error_rate must be in 0..1");
    return f;
}

} // namespace herd::sim
