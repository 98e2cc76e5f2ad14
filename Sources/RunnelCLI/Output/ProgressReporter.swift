import Foundation

/// Shows how far a long run is: a bar redrawn in place on a terminal, a plain line every few
/// seconds otherwise (logs, CI), and nothing for runs that finish quickly.
final class ProgressReporter {
    private let console: Console
    private let label: String
    private let started = ContinuousClock.now
    private var lastDrawn = ContinuousClock.now
    private var drewBar = false

    init(console: Console, label: String) {
        self.console = console
        self.label = label
    }

    func update(done: Int64, total: Int64) {
        let now = ContinuousClock.now
        guard now - started > .seconds(1) else { return }
        let interval: Duration = console.isInteractive ? .milliseconds(100) : .seconds(5)
        guard now - lastDrawn >= interval || done == total else { return }
        lastDrawn = now
        let fraction = total > 0 ? Double(done) / Double(total) : 1
        let seconds = (now - started).timeInterval
        let rate = seconds > 0 ? Int(Double(done) / seconds) : 0
        if console.isInteractive {
            let width = 30
            let filled = Int(fraction * Double(width))
            let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
            console.redraw("\(label) \(bar) \(Int(fraction * 100))%  \(done)/\(total) records  \(rate)/s")
            drewBar = true
        } else {
            console.note("\(label): \(done)/\(total) records (\(Int(fraction * 100))%), \(rate)/s")
        }
    }

    /// Ends the bar's line, if one was drawn.
    func finish() {
        if drewBar { console.redraw("", done: false) }
    }
}
