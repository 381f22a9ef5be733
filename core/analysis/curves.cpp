#include "core/analysis/curves.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <sstream>

namespace gs {

std::string axis_label(CurveAxis axis) {
    switch (axis) {
        case CurveAxis::step: return "step";
        case CurveAxis::tokens: return "tokens";
        case CurveAxis::flops: return "training FLOPs";
        case CurveAxis::hours: return "training hours";
    }
    return "";
}

double axis_value(const MetricRow& row, CurveAxis axis) {
    switch (axis) {
        case CurveAxis::step: return static_cast<double>(row.step);
        case CurveAxis::tokens: return static_cast<double>(row.tokens);
        case CurveAxis::flops: return row.flops;
        case CurveAxis::hours: return row.wall_seconds / 3600.0;
    }
    return 0;
}

Curve extract_curve(const std::vector<MetricRow>& rows, CurveAxis axis, CurveKind kind, bool stage_start) {
    std::map<int64_t, double> stage_origin;  // stage -> x of its first row
    Curve curve;
    for (const MetricRow& row : rows) {
        const double x = axis_value(row, axis);
        if (!stage_origin.count(row.stage_index)) stage_origin[row.stage_index] = x;
        const std::optional<double>& y = kind == CurveKind::validation ? row.valid_loss : row.train_loss;
        if (!y) continue;
        curve.push_back({stage_start ? x - stage_origin[row.stage_index] : x, *y});
    }
    return curve;
}

std::optional<double> first_reach(const Curve& curve, double target) {
    for (size_t i = 0; i < curve.size(); ++i) {
        if (curve[i].y > target) continue;
        if (i == 0) return curve[0].x;
        const CurvePoint& above = curve[i - 1];
        const CurvePoint& below = curve[i];
        const double share = (above.y - target) / (above.y - below.y);
        return above.x + share * (below.x - above.x);
    }
    return std::nullopt;
}

Curve smooth_ema(const Curve& curve, double weight) {
    Curve smoothed;
    double average = 0;
    double correction = 0;
    for (const CurvePoint& point : curve) {
        average = weight * average + (1 - weight) * point.y;
        correction = weight * correction + (1 - weight);  // debiasing: early points are not pulled to 0
        smoothed.push_back({point.x, average / correction});
    }
    return smoothed;
}

Curve downsample_min_max(const Curve& curve, size_t buckets) {
    if (buckets == 0 || curve.size() <= 4 * buckets) return curve;
    const double first = curve.front().x, last = curve.back().x;
    const double width = (last - first) / static_cast<double>(buckets);
    Curve kept;
    size_t begin = 0;
    while (begin < curve.size()) {
        const auto bucket = std::min(buckets - 1, static_cast<size_t>((curve[begin].x - first) / width));
        size_t end = begin;
        while (end < curve.size() &&
               std::min(buckets - 1, static_cast<size_t>((curve[end].x - first) / width)) == bucket) {
            ++end;
        }
        std::vector<size_t> chosen = {begin, end - 1};
        const auto by_y = [&](size_t a, size_t b) { return curve[a].y < curve[b].y; };
        std::vector<size_t> indices(end - begin);
        for (size_t i = begin; i < end; ++i) indices[i - begin] = i;
        chosen.push_back(*std::min_element(indices.begin(), indices.end(), by_y));
        chosen.push_back(*std::max_element(indices.begin(), indices.end(), by_y));
        std::sort(chosen.begin(), chosen.end());
        chosen.erase(std::unique(chosen.begin(), chosen.end()), chosen.end());
        for (size_t i : chosen) kept.push_back(curve[i]);
        begin = end;
    }
    return kept;
}

std::vector<double> resample(const Curve& curve, const std::vector<double>& grid) {
    std::vector<double> values;
    const double nan = std::numeric_limits<double>::quiet_NaN();
    for (double x : grid) {
        if (curve.empty() || x < curve.front().x || x > curve.back().x) {
            values.push_back(nan);
            continue;
        }
        const auto above = std::lower_bound(curve.begin(), curve.end(), x,
                                            [](const CurvePoint& p, double value) { return p.x < value; });
        if (above->x == x || above == curve.begin()) {
            values.push_back(above->y);
            continue;
        }
        const CurvePoint& left = *(above - 1);
        values.push_back(left.y + (above->y - left.y) * (x - left.x) / (above->x - left.x));
    }
    return values;
}

std::vector<double> common_grid(const std::vector<Curve>& curves, size_t points) {
    double low = std::numeric_limits<double>::infinity(), high = -low;
    for (const Curve& curve : curves) {
        if (curve.empty()) continue;
        low = std::min(low, curve.front().x);
        high = std::max(high, curve.back().x);
    }
    std::vector<double> grid;
    if (!(low <= high) || points == 0) return grid;
    if (points == 1 || low == high) return {low};
    for (size_t i = 0; i < points; ++i) grid.push_back(low + (high - low) * static_cast<double>(i) / (points - 1));
    return grid;
}

std::string curves_csv(const std::string& x_label, const std::vector<std::string>& names,
                       const std::vector<Curve>& curves, const std::vector<double>& grid) {
    std::ostringstream out;
    out.precision(10);
    out << x_label;
    for (const auto& name : names) out << "," << name;
    out << "\n";
    std::vector<std::vector<double>> columns;
    for (const Curve& curve : curves) columns.push_back(resample(curve, grid));
    for (size_t i = 0; i < grid.size(); ++i) {
        out << grid[i];
        for (const auto& column : columns) {
            out << ",";
            if (!std::isnan(column[i])) out << column[i];
        }
        out << "\n";
    }
    return out.str();
}

ReachFigures time_to_reach(const std::vector<MetricRow>& rows, double target_loss) {
    ReachFigures figures;
    figures.steps = first_reach(extract_curve(rows, CurveAxis::step, CurveKind::validation), target_loss);
    figures.tokens = first_reach(extract_curve(rows, CurveAxis::tokens, CurveKind::validation), target_loss);
    figures.flops = first_reach(extract_curve(rows, CurveAxis::flops, CurveKind::validation), target_loss);
    figures.hours = first_reach(extract_curve(rows, CurveAxis::hours, CurveKind::validation), target_loss);
    return figures;
}

}  // namespace gs
