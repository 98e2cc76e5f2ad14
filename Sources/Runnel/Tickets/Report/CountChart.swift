import Foundation

/// Exceptions per service per hour over a number of hours (24 in the reports, 1 to 168 on the
/// dashboard), as an inline SVG line chart: one polyline per service with one point per hour,
/// labelled axes and a legend. Plain SVG attributes carry all of its presentation, so it needs no
/// style sheet, script or other file.
package struct CountChart {
    /// How many hours the chart spans.
    package let hours: Int

    /// One service's line.
    struct Series {
        var service: String
        /// One count per hour of the chart, oldest first.
        var counts: [Int64]
        var total: Int64 { counts.reduce(0, &+) }
    }

    /// The start of the first (oldest) hour, in seconds since 1970.
    let firstHour: Int64
    /// Sorted by service name (bytes); a service appears when it has an entry in the window.
    let series: [Series]

    /// The chart of the `hours` hours ending with the hour holding `lastHour`. Entries outside
    /// the window are left out; entries for the same service and hour are added up.
    package init(counts: [ExceptionReport.ServiceHour], endingWith lastHour: Date, hours: Int = 24) {
        self.hours = max(hours, 1)
        let last = ReportTime.hourStart(of: lastHour)
        firstHour = last - Int64(self.hours - 1) * ReportTime.secondsPerHour
        // Keyed by the name's bytes, not the `String`, for the reason in `ReportOrder.precedes`.
        var byService: [[UInt8]: [Int64]] = [:]
        for entry in counts {
            let slot = (ReportTime.hourStart(of: entry.hour) - firstHour) / ReportTime.secondsPerHour
            guard (0..<Int64(self.hours)).contains(slot) else { continue }
            byService[Array(entry.service.utf8), default: Array(repeating: 0, count: self.hours)][Int(slot)] &+= max(entry.count, 0)
        }
        series = byService
            .sorted { $0.key.lexicographicallyPrecedes($1.key) }
            .map { Series(service: String(decoding: $0.key, as: UTF8.self), counts: $0.value) }
    }

    /// The highest count of any service in any hour.
    var peak: Int64 { series.lazy.flatMap(\.counts).max() ?? 0 }

    // Layout, in SVG user units. The plot area is a fixed rectangle; the legend below it grows by
    // one row per service.
    static let width = 960.0
    static let plotLeft = 64.0
    static let plotRight = 936.0
    static let plotTop = 24.0
    static let plotBottom = 264.0
    private static let legendTop = 336.0
    private static let legendRow = 20.0

    var height: Double { Self.legendTop + Double(max(series.count, 1)) * Self.legendRow }

    /// Where hour `index` (0 = oldest) is drawn.
    func x(_ index: Int) -> Double {
        Self.plotLeft + (Self.plotRight - Self.plotLeft) * Double(index) / Double(max(hours - 1, 1))
    }

    /// Where `count` is drawn: the peak at the top of the plot area, zero at the bottom.
    func y(_ count: Int64) -> Double {
        let scale = Double(max(peak, 1))
        return Self.plotBottom - (Self.plotBottom - Self.plotTop) * Double(count) / scale
    }

    /// The y-axis labels: zero, multiples of a round step (1, 2 or 5 times a power of ten, about
    /// a quarter of the peak), and the peak itself at the top, since the scale ends there. A
    /// round label closer than 16 units below the peak would overlap it and is left out.
    var yTicks: [Int64] {
        let peak = peak
        guard peak > 0 else { return [0] }
        let step = Self.roundStep(atLeast: Double(peak) / 4)
        let minimumGap = Double(peak) * 16 / (Self.plotBottom - Self.plotTop)
        var ticks: [Int64] = []
        var tick: Int64 = 0
        while tick < peak {
            if Double(peak - tick) >= minimumGap { ticks.append(tick) }
            let (next, overflow) = tick.addingReportingOverflow(step)
            if overflow { break }
            tick = next
        }
        return ticks + [peak]
    }

    /// The smallest of 1, 2, 5, 10, 20, 50, … that is at least `target` (at least 1).
    static func roundStep(atLeast target: Double) -> Int64 {
        var magnitude: Int64 = 1
        while true {
            for multiple: Int64 in [1, 2, 5] where Double(multiple) * Double(magnitude) >= target {
                return multiple * magnitude
            }
            // Beyond 10^18 every target (at most a quarter of Int64.max) has been met.
            guard magnitude <= Int64.max / 10 else { return magnitude }
            magnitude *= 10
        }
    }

    /// Line colours: the Okabe–Ito palette, told apart by colour-blind readers, darkest first.
    /// After eight services the colours repeat with dashes.
    private static let colours = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#999999"]
    private static let dashes = ["", "8 4", "2 3"]

    private static func style(_ index: Int) -> MarkupWriter.Attributes {
        let dash = dashes[(index / colours.count) % dashes.count]
        return [("stroke", colours[index % colours.count])] + (dash.isEmpty ? [] : [("stroke-dasharray", dash)])
    }

    /// `points` for a polyline: `x,y` pairs with one decimal.
    func points(_ counts: [Int64]) -> String {
        counts.enumerated()
            .map { ReportNumber.oneDecimal(x($0.offset)) + "," + ReportNumber.oneDecimal(y($0.element)) }
            .joined(separator: " ")
    }

    /// A sentence describing the window, for captions.
    var windowDescription: String {
        let end = firstHour + Int64(hours) * ReportTime.secondsPerHour
        return "Exceptions per service per hour over the \(hours) hours from " + ReportTime.iso8601(seconds: firstHour)
            + " to " + ReportTime.iso8601(seconds: end) + " (UTC)."
    }

    /// The caption under the chart.
    package var caption: String {
        windowDescription + " Each point is the hour starting at its time."
    }

    /// The chart as an `<svg>` element, to place in a page.
    package func svg() -> String {
        var writer = MarkupWriter()
        render(into: &writer)
        return writer.output
    }

    func render(into writer: inout MarkupWriter) {
        let one = ReportNumber.oneDecimal
        writer.open("svg", [
            ("xmlns", "http://www.w3.org/2000/svg"), ("class", "chart"),
            ("width", one(Self.width)), ("height", one(height)), ("viewBox", "0 0 " + one(Self.width) + " " + one(height)),
            ("role", "img"), ("aria-labelledby", "chart-title chart-desc"),
            ("font-family", "sans-serif"), ("font-size", "12"), ("fill", "#222222"),
        ])
        writer.element("title", [("id", "chart-title")], text: "Exceptions per service, last \(hours) hours")
        writer.element("desc", [("id", "chart-desc")], text: windowDescription)
        writer.empty("rect", [
            ("class", "plot-area"), ("x", one(Self.plotLeft)), ("y", one(Self.plotTop)),
            ("width", one(Self.plotRight - Self.plotLeft)), ("height", one(Self.plotBottom - Self.plotTop)),
            ("fill", "#ffffff"), ("stroke", "#888888"), ("stroke-width", "1"),
        ])
        renderYAxis(into: &writer)
        renderXAxis(into: &writer)
        writer.open("g", [("class", "series"), ("fill", "none"), ("stroke-width", "2"), ("stroke-linejoin", "round")])
        for (index, line) in series.enumerated() {
            writer.open("polyline", [("data-service", line.service)] + Self.style(index) + [("points", points(line.counts))])
            writer.element("title", text: line.service + ": " + line.counts.map(String.init).joined(separator: " "))
            writer.close()
        }
        writer.close()
        renderLegend(into: &writer)
        writer.close()
    }

    private func renderYAxis(into writer: inout MarkupWriter) {
        let one = ReportNumber.oneDecimal
        writer.open("g", [("class", "y-axis")])
        writer.element("text", [("x", one(Self.plotLeft)), ("y", one(Self.plotTop - 8))], text: "exceptions per hour")
        for tick in yTicks {
            let y = one(y(tick))
            if tick > 0 {
                writer.empty("line", [
                    ("x1", one(Self.plotLeft)), ("y1", y), ("x2", one(Self.plotRight)), ("y2", y),
                    ("stroke", "#dddddd"), ("stroke-width", "1"),
                ])
            }
            writer.element("text", [("x", one(Self.plotLeft - 8)), ("y", one(self.y(tick) + 4)), ("text-anchor", "end")], text: String(tick))
        }
        writer.close()
    }

    /// A label every three hours (every step that keeps about eight labels on a longer chart),
    /// ending with the last hour, with the date under the first label and under each midnight.
    private func renderXAxis(into writer: inout MarkupWriter) {
        let one = ReportNumber.oneDecimal
        writer.open("g", [("class", "x-axis"), ("text-anchor", "middle")])
        var datedOne = false
        let step = hours <= 24 ? 3 : Int((Double(hours) / 8).rounded(.up))
        for index in stride(from: (hours - 1) % step, to: hours, by: step) {
            let hour = firstHour + Int64(index) * ReportTime.secondsPerHour
            let x = one(x(index))
            writer.empty("line", [
                ("x1", x), ("y1", one(Self.plotBottom)), ("x2", x), ("y2", one(Self.plotBottom + 5)),
                ("stroke", "#888888"), ("stroke-width", "1"),
            ])
            writer.element("text", [("x", x), ("y", one(Self.plotBottom + 18))], text: ReportTime.clock(seconds: hour))
            let clock = ReportTime.clock(seconds: hour)
            if !datedOne || clock == "00:00" {
                writer.element("text", [("x", x), ("y", one(Self.plotBottom + 34))], text: ReportTime.day(seconds: hour))
                datedOne = true
            }
        }
        writer.element("text", [("x", one(Self.plotRight)), ("y", one(Self.plotBottom + 50)), ("text-anchor", "end")], text: "hour starting (UTC)")
        writer.close()
    }

    private func renderLegend(into writer: inout MarkupWriter) {
        let one = ReportNumber.oneDecimal
        writer.open("g", [("class", "legend")])
        if series.isEmpty {
            writer.element("text", [("x", one(Self.plotLeft)), ("y", one(Self.legendTop + 4))], text: "No exceptions in the last \(hours) hours.")
        }
        for (index, line) in series.enumerated() {
            let y = Self.legendTop + Double(index) * Self.legendRow
            writer.empty("line", [
                ("x1", one(Self.plotLeft)), ("y1", one(y)), ("x2", one(Self.plotLeft + 28)), ("y2", one(y)), ("stroke-width", "2"),
            ] + Self.style(index))
            let peak = line.counts.max() ?? 0
            writer.element("text", [("x", one(Self.plotLeft + 36)), ("y", one(y + 4))],
                           text: line.service + ": " + String(line.total) + " in \(hours) hours, at most " + String(peak) + " in an hour")
        }
        writer.close()
    }
}
