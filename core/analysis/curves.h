// Learning curves as the study reads them: validation (or training) loss against steps, tokens,
// FLOPs or training hours; the first time a run reaches a reference loss; smoothing, spike-keeping
// downsampling and resampling onto a common grid for plots and CSV. Plain C++, shared by the GUI
// and the headless study report.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "core/store/store.h"

namespace gs {

struct CurvePoint {
    double x = 0;
    double y = 0;
};
using Curve = std::vector<CurvePoint>;

enum class CurveAxis { step, tokens, flops, hours };
enum class CurveKind { validation, training };

std::string axis_label(CurveAxis axis);
// Where a stored row stands on the axis.
double axis_value(const MetricRow& row, CurveAxis axis);

// The run's loss curve on the chosen axis, in step order. With `stage_start`, x counts from the
// start of the row's stage instead of the run's (steps only: tokens, FLOPs and hours of a stage
// start where its first row is).
Curve extract_curve(const std::vector<MetricRow>& rows, CurveAxis axis, CurveKind kind, bool stage_start = false);

// The first x at which the curve is at or below `target`, interpolated linearly between the last
// point above and the first point at or below; nothing when it never gets there.
std::optional<double> first_reach(const Curve& curve, double target);

// Exponential moving average with TensorBoard's debiasing (weight 0: the raw curve).
Curve smooth_ema(const Curve& curve, double weight);

// At most about 4 points per bucket of equal x width: the first, the minimum, the maximum and the
// last, in x order, so that spikes (the jump after a growth step) survive.
Curve downsample_min_max(const Curve& curve, size_t buckets);

// Linear interpolation at each grid x; NaN outside the curve's range.
std::vector<double> resample(const Curve& curve, const std::vector<double>& grid);
// `points` evenly spaced x values spanning all curves.
std::vector<double> common_grid(const std::vector<Curve>& curves, size_t points);

// CSV: x, then one column per curve, resampled onto `grid` (empty cells outside a curve).
std::string curves_csv(const std::string& x_label, const std::vector<std::string>& names,
                       const std::vector<Curve>& curves, const std::vector<double>& grid);

// How long a run took to first reach a loss, on every axis.
struct ReachFigures {
    std::optional<double> steps, tokens, flops, hours;
};
ReachFigures time_to_reach(const std::vector<MetricRow>& rows, double target_loss);

}  // namespace gs
