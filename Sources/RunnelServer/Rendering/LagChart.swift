import Foundation

/// The geometry of one pipeline's lag chart on the pipelines page: the hour ending at the last
/// reading, records waiting on the y axis (zero at the bottom, the hour's peak at the top). The
/// `pipelines` template draws it as inline SVG from these numbers.
struct LagChart {
    static let width = 640.0
    static let height = 170.0
    static let left = 56.0
    static let right = 624.0
    static let top = 14.0
    static let bottom = 140.0

    let samples: [LagHistory.Sample]
    /// The end of the hour shown, in milliseconds since 1970.
    let end: Int64
    var start: Int64 { end - LagHistory.span }
    var peak: Int64 { samples.map(\.lagEvents).max() ?? 0 }

    func x(_ at: Int64) -> Double {
        Self.left + (Self.right - Self.left) * Double(min(max(at - start, 0), LagHistory.span)) / Double(LagHistory.span)
    }

    func y(_ lag: Int64) -> Double {
        Self.bottom - (Self.bottom - Self.top) * Double(max(lag, 0)) / Double(max(peak, 1))
    }

    /// The polyline's `points`: one `x,y` pair per sample.
    var points: String {
        samples.map { String(format: "%.1f,%.1f", x($0.at), y($0.lagEvents)) }.joined(separator: " ")
    }

    /// The template's values for this chart.
    var context: [String: Any] {
        var context: [String: Any] = [
            "width": Self.width, "height": Self.height, "left": Self.left, "right": Self.right, "top": Self.top, "bottom": Self.bottom,
            "plot_width": Self.right - Self.left, "plot_height": Self.bottom - Self.top,
            "label_x": Self.left - 6, "peak_y": Self.top + 4, "zero_y": Self.bottom + 4, "axis_y": Self.bottom + 18,
            "peak": peak, "has_peak": peak > 0, "points": points, "sample_count": samples.count,
            "start_label": PageContext.time(ms: start), "end_label": PageContext.time(ms: end),
        ]
        if let last = samples.last {
            context["last"] = ["x": String(format: "%.1f", x(last.at)), "y": String(format: "%.1f", y(last.lagEvents)), "lag": last.lagEvents] as [String: Any]
        }
        return context
    }
}
