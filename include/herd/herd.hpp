#pragma once
// Umbrella header: everything a herd user needs.

#include <herd/error.hpp>
#include <herd/matrix.hpp>
#include <herd/metrics.hpp>
#include <herd/pool.hpp>
#include <herd/pool_config.hpp>
