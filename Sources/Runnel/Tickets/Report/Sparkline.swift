/// A ticket's exceptions per hour over the last 24 hours, small enough for a table cell: bars in
/// an inline SVG for HTML, block characters for Markdown.
package struct Sparkline {
    static let hours = 24

    /// Exactly 24 counts, oldest first.
    let counts: [Int64]

    /// Takes the last 24 counts; when there are fewer, the earlier hours count as zero (the
    /// array is taken to end with the report's hour). Negative counts are shown as zero.
    package init(_ counts: [Int64]) {
        let latest = counts.suffix(Self.hours).map { max($0, 0) }
        self.counts = Array(repeating: 0, count: Self.hours - latest.count) + latest
    }

    var peak: Int64 { counts.max() ?? 0 }

    /// `0 0 3 12 …`, for people who want the numbers.
    var numbers: String { counts.map(String.init).joined(separator: " ") }

    /// One block character per hour, `▁` for none and at least `▂` for any, so an hour with a
    /// single exception is not mistaken for a quiet one.
    var blocks: String {
        let levels: [Character] = ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"]
        let peak = peak
        return String(counts.map { count -> Character in
            guard count > 0, peak > 0 else { return levels[0] }
            // 1…7 in proportion to the peak, rounded up so that small counts stay visible.
            let level = Int((Double(count) / Double(peak) * 7).rounded(.up))
            return levels[min(max(level, 1), 7)]
        })
    }

    /// A 96 × 20 SVG: one 3-pixel bar per hour on a baseline, the peak filling the height. Its
    /// `<title>` (a tooltip, and what screen readers say) and `data-counts` hold the numbers.
    /// The sparkline as an `<svg>` element, to place in a page.
    package func svg() -> String {
        var writer = MarkupWriter()
        render(into: &writer)
        return writer.output
    }

    func render(into writer: inout MarkupWriter) {
        let height = 20.0
        let peak = peak
        writer.open("svg", [
            ("xmlns", "http://www.w3.org/2000/svg"), ("class", "sparkline"), ("width", "96"), ("height", "20"),
            ("viewBox", "0 0 96 20"), ("role", "img"), ("data-counts", numbers),
        ])
        writer.element("title", text: "Exceptions per hour, oldest first: " + numbers)
        writer.empty("line", [("x1", "0"), ("y1", "19.5"), ("x2", "96"), ("y2", "19.5"), ("stroke", "#bbbbbb"), ("stroke-width", "1")])
        for (hour, count) in counts.enumerated() where count > 0 {
            // At least one pixel tall, so a single exception shows.
            let barHeight = max(1, (height - 1) * Double(count) / Double(peak))
            writer.empty("rect", [
                ("x", String(hour * 4)), ("y", ReportNumber.oneDecimal(height - barHeight)),
                ("width", "3"), ("height", ReportNumber.oneDecimal(barHeight)), ("fill", "#b03030"),
            ])
        }
        writer.close()
    }
}
