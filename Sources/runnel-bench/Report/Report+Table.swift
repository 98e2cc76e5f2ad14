extension Report {
    /// The results as aligned columns, numbers right-aligned, then a note line per scenario with
    /// the latency percentiles and what the scenario adds.
    func table(_ results: [ScenarioResult]) -> String {
        let header = ["scenario", "unit", "runnel", "baseline", "ratio", "goal", "met"]
        let rightAligned: Set<Int> = [2, 3, 4, 5]
        let rows = results.map { result in
            [result.scenario, result.unit, FigureFormat.display(result.runnel), FigureFormat.display(result.baseline),
             FigureFormat.displayRatio(result.ratio), String(format: "%.2f", result.goal), result.met ? "yes" : "no"]
        }
        var widths = header.map(\.count)
        for row in rows {
            for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) }
        }
        func line(_ cells: [String]) -> String {
            let padded = cells.enumerated().map { index, cell in
                let padding = String(repeating: " ", count: widths[index] - cell.count)
                return rightAligned.contains(index) ? padding + cell : cell + padding
            }
            return padded.joined(separator: "  ").replacing(/\s+$/, with: "")
        }
        var lines = [line(header), line(widths.map { String(repeating: "-", count: $0) })]
        lines += rows.map(line)
        lines += results.map(note)
        return lines.joined(separator: "\n")
    }

    private func note(_ result: ScenarioResult) -> String {
        var parts: [String] = []
        if let runnel = result.measurement.runnelLatency, let baseline = result.measurement.baselineLatency {
            func pair(_ latency: LatencySummary) -> String {
                "\(FigureFormat.display(latency.p50))/\(FigureFormat.display(latency.p99))"
            }
            parts.append("p50/p99 µs: runnel \(pair(runnel)), baseline \(pair(baseline))")
        }
        if !result.measurement.goals.isEmpty {
            parts.append("goals: " + result.measurement.goals.map { "\($0.name) \($0.met ? "met" : "NOT met")" }.joined(separator: ", "))
        }
        if !result.met {
            parts.append("missed: " + result.missed.joined(separator: ", "))
        }
        if let note = result.measurement.note {
            parts.append(note)
        }
        return "  \(result.scenario): \(parts.joined(separator: "; "))"
    }
}
