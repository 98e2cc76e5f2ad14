import Runnel

extension Report {
    /// One result as a JSON object on one line, keys in a fixed order:
    /// `{"scenario": …, "unit": …, "runnel": …, "baseline": …, "ratio": …, "goal": …, "met": …, "detail": {…}}`.
    ///
    /// Written by hand because `JSONEncoder` does not keep the order of keys.
    func jsonLine(_ result: ScenarioResult) -> String {
        let detail = result.detail.map { ($0.name, FigureFormat.json($0.value)) }
        return JSONText.object([
            ("scenario", JSONText.quoted(result.scenario)),
            ("unit", JSONText.quoted(result.unit)),
            ("runnel", FigureFormat.json(result.runnel)),
            ("baseline", FigureFormat.json(result.baseline)),
            ("ratio", FigureFormat.jsonRatio(result.ratio)),
            ("goal", FigureFormat.json(result.goal, places: 3)),
            ("met", result.met ? "true" : "false"),
            ("detail", JSONText.object(detail, spaced: true)),
        ], spaced: true)
    }
}
