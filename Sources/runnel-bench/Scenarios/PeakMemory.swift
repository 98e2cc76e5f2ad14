#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// The process's peak resident memory over a stretch of work, so a scenario can say how much
/// memory one side needed (the goal: memory stays flat as the input grows).
///
/// On Linux the peak ("high water mark", `VmHWM`) is reset to the current size first, by writing
/// 5 to `/proc/self/clear_refs`, so each side's peak is its own. Elsewhere it reads
/// `getrusage`'s `ru_maxrss`, which cannot be reset: the peak of the whole process so far.
///
/// ```swift
/// let watch = PeakMemory.start()
/// try work()
/// print(watch.peakBytes, watch.startBytes)
/// ```
struct PeakMemory {
    /// The resident size when the watch started.
    let startBytes: Int
    /// Whether the peak was reset at the start (so ``peakBytes`` is this stretch's own).
    let isResettable: Bool

    /// Resets the peak where the system allows it, and notes the current size.
    static func start() -> PeakMemory {
        #if os(Linux)
        let reset = (try? Data("5".utf8).write(to: URL(fileURLWithPath: "/proc/self/clear_refs"))) != nil
        return PeakMemory(startBytes: statusField("VmRSS") ?? 0, isResettable: reset)
        #else
        return PeakMemory(startBytes: maxResidentBytes(), isResettable: false)
        #endif
    }

    /// The peak resident size since ``start()`` (since the process started, where it cannot be reset).
    var peakBytes: Int {
        #if os(Linux)
        return Self.statusField("VmHWM") ?? Self.maxResidentBytes()
        #else
        return Self.maxResidentBytes()
        #endif
    }

    /// `getrusage`'s peak resident size, in bytes (Linux gives KiB, Darwin bytes).
    private static func maxResidentBytes() -> Int {
        var usage = rusage()
        #if os(Linux)
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        return Int(usage.ru_maxrss) * 1024
        #else
        getrusage(RUSAGE_SELF, &usage)
        return Int(usage.ru_maxrss)
        #endif
    }

    #if os(Linux)
    /// A `kB` field of `/proc/self/status`, in bytes.
    private static func statusField(_ name: String) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix(name + ":") {
            let number = line.dropFirst(name.count + 1).split(whereSeparator: \.isWhitespace).first
            return number.flatMap { Int($0) }.map { $0 * 1024 }
        }
        return nil
    }
    #endif
}
