#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#else
import Darwin
#endif

/// Reads the frame lines of a stack trace's text, one at a time, without copying: each frame
/// comes back as ranges of the trace's UTF-8 bytes, for ``FrameName`` to normalise.
///
/// What is read (leading spaces and tabs ignored, `\r\n` line ends accepted):
/// - JVM frames, `at com.example.feed.RankingClient.fetch(RankingClient.java:123)`, with or
///   without a module or class loader (`at java.base/java.lang.Thread.run(Thread.java:829)`,
///   `at app//com.example.Foo.bar(Foo.java:9)`) and with anything after the parentheses
///   (`~[app.jar:1.0]`);
/// - generic and Swift frames, `at Module.function (File.swift:12)`, `at Module.function`,
///   and JavaScript's `at async Handler.run (/app/x.js:3:7)`: the name runs to the first `(`,
///   space or tab;
/// - Python frames, `File "app/feed/ranking.py", line 3, in handler` (the source line under each
///   is ignored, as are `at …` lines once a Python frame has been seen).
///
/// Only the exception's own frames are read, never its causes':
/// - JVM: the first (outermost) section, up to the first `Caused by:` or `Suppressed:` line;
///   the thrown exception's frames are the ones that say where it surfaced, and a cause's frames
///   are usually library code that many unrelated failures share.
/// - Python prints the chain the other way round, the outermost exception last: each
///   `Traceback (most recent call last):` line starts over (``Line/restart``), so the last
///   traceback's frames remain.
///
/// Everything else (the `Type: message` header, `... 12 more`, `^^^^` markers, chained
/// exception notes) is skipped.
struct StackTraceReader {
    /// One frame line, or the start of another traceback.
    enum Line {
        /// `at NAME…`: from NAME's first byte to the end of the line (``FrameName`` finds where
        /// the name ends only for the frames that need it).
        case call(Range<Int>)
        /// `File "PATH", line N, in FUNCTION`.
        case python(path: Range<Int>, function: Range<Int>)
        /// `Traceback (most recent call last):`: the frames read so far belong to another exception.
        case restart
    }

    let bytes: UnsafeBufferPointer<UInt8>
    private var position = 0
    /// Set by the first Python line: from then on, `at …` is Python source, not a frame.
    private var python = false
    private var done = false

    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    /// The next frame line, or nil at the end of the exception's own frames.
    @inline(__always) mutating func next() -> Line? {
        guard let base = bytes.baseAddress else { return nil }
        let count = bytes.count
        while !done, position < count {
            // memchr finds the line end with vector instructions: most of a trace's bytes are in
            // lines whose name fails the in-app test after a few bytes.
            let lineEnd = memchr(base + position, 0x0A, count - position).map { UnsafeRawPointer($0) - UnsafeRawPointer(base) } ?? count
            var start = position
            position = lineEnd + 1
            while start < lineEnd, bytes[start] == 0x20 || bytes[start] == 0x09 { start += 1 }
            var end = lineEnd
            if end > start, bytes[end - 1] == 0x0D { end -= 1 }
            guard end - start >= 3 else { continue }
            switch bytes[start] {
            case 0x61 where !python:  // a
                if let name = callStart(start, end) { return .call(name..<end) }
            case 0x46:  // F
                if let frame = pythonFrame(start, end) {
                    python = true
                    return frame
                }
            case 0x43 where !python:  // C
                if has("Caused by:", at: start, end) { done = true }
            case 0x53 where !python:  // S
                if has("Suppressed:", at: start, end) { done = true }
            case 0x54:  // T
                if has("Traceback (most recent call last):", at: start, end) {
                    python = true
                    return .restart
                }
            default:
                break
            }
        }
        return nil
    }

    /// Where NAME starts in `at NAME`; JavaScript's `async ` and `new ` before it are skipped.
    private func callStart(_ start: Int, _ end: Int) -> Int? {
        guard bytes[start + 1] == 0x74, bytes[start + 2] == 0x20 || bytes[start + 2] == 0x09 else { return nil }  // "at "
        var index = start + 3
        while index < end, bytes[index] == 0x20 { index += 1 }
        if index < end, bytes[index] == 0x61 || bytes[index] == 0x6E {  // a n
            if has("async ", at: index, end) { index += 6 } else if has("new ", at: index, end) { index += 4 }
        }
        guard index < end, bytes[index] != 0x28, bytes[index] != 0x09 else { return nil }
        return index
    }

    /// `File "PATH", line N, in FUNCTION`.
    private func pythonFrame(_ start: Int, _ end: Int) -> Line? {
        guard has("File \"", at: start, end) else { return nil }
        let pathStart = start + 6
        var index = pathStart
        while index < end, bytes[index] != 0x22 { index += 1 }
        guard index < end else { return nil }
        let pathEnd = index
        while index + 4 <= end {
            if has(", in ", at: index, end) {
                var functionEnd = end
                while functionEnd > index + 5, bytes[functionEnd - 1] == 0x20 { functionEnd -= 1 }
                guard functionEnd > index + 5 else { return nil }
                return .python(path: pathStart..<pathEnd, function: (index + 5)..<functionEnd)
            }
            index += 1
        }
        return nil
    }

    private func has(_ text: StaticString, at start: Int, _ end: Int) -> Bool {
        let length = text.utf8CodeUnitCount
        guard end - start >= length else { return false }
        let pointer = text.utf8Start
        for offset in 0..<length where bytes[start + offset] != pointer[offset] { return false }
        return true
    }
}
