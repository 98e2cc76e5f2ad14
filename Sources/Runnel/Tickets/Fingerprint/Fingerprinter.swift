import Crypto

/// Which frames are the application's own, and so how exceptions group into tickets.
///
/// A fingerprint (``ExceptionFingerprint``) is the exception's type and its in-app frames:
/// - the frames are read from the stack trace's text: JVM lines
///   (`at com.example.Foo.bar(Foo.java:12)`, with or without a module such as `java.base/`),
///   Python lines (`File "app/x.py", line 3, in handler`, read as `app/x.handler`) and generic
///   or Swift lines (`at Module.function (File.swift:12)`, the name running to `(` or a space);
///   other lines are skipped;
/// - only the exception's own frames count, not its causes': for the JVM the first (outermost)
///   section, up to the first `Caused by:` or `Suppressed:` line; for Python, which prints the
///   outermost exception last, the last `Traceback (most recent call last):`;
/// - each frame is normalised: no line numbers or file names, no code generators' decorations
///   (`Foo$1.run` → `Foo.run`, `lambda$fetch$0` → `fetch`, `Foo$$EnhancerByCGLIB$$a1b2` → `Foo`,
///   `$Proxy12` → `$Proxy`), and no lambda-class or `access$000` frames, which appear or not
///   depending on the JVM and compiler rather than the code;
/// - a frame is in-app when its normalised name starts with one of the prefixes; the others
///   (the JDK, frameworks, libraries) are left out, so an upgraded library or a different
///   thread pool does not open a new ticket;
/// - in-app frames repeated in a row (recursion, at whatever depth) count once.
///
/// When no frame is in-app, the fingerprint is the type and the message's template
/// (``MessageTemplate/parameterize(_:)``) instead, so `Timed out after 150 ms` and
/// `Timed out after 2000 ms` group while `Connection refused` stays apart. The type alone never
/// merges exceptions thrown from different in-app frames.
///
/// ```swift
/// let fingerprinter = Fingerprinter(inAppPrefixes: ["com.example."])
/// let trace = """
///     java.util.concurrent.TimeoutException: Timed out after 150 ms
///     \tat com.example.feed.RankingClient.fetch(RankingClient.java:123)
///     \tat com.example.feed.FeedService.lambda$load$0(FeedService.java:57)
///     \tat java.util.concurrent.FutureTask.run(FutureTask.java:264)
///     """
/// let fingerprint = fingerprinter.fingerprint(
///     type: "java.util.concurrent.TimeoutException", message: "Timed out after 150 ms", stackTrace: trace)
/// fingerprint.frames  // ["com.example.feed.RankingClient.fetch", "com.example.feed.FeedService.load"]
/// fingerprint.message // nil: the frames decide
/// ```
///
/// Fingerprinting reads the trace's UTF-8 in place and copies only the in-app frames; it is
/// meant to run for every exception of a batch.
public struct Fingerprinter: Sendable {
    /// The prefixes of in-app frame names, as given.
    public let inAppPrefixes: [String]
    /// The prefixes' UTF-8, one after another, and where each is: flat, so that testing a frame
    /// retains no inner array.
    private let prefixStorage: [UInt8]
    private let prefixRanges: [Range<Int>]

    /// A fingerprinter for an application whose own code lives under the given prefixes.
    /// - Parameter inAppPrefixes: Prefixes of normalised frame names (`["com.example."]` for
    ///   JVM packages, `["app/"]` for Python paths). With none, every frame counts as in-app.
    public init(inAppPrefixes: [String]) {
        self.inAppPrefixes = inAppPrefixes
        var storage: [UInt8] = []
        var ranges: [Range<Int>] = []
        for prefix in inAppPrefixes where !prefix.isEmpty {
            ranges.append(storage.count..<(storage.count + prefix.utf8.count))
            storage.append(contentsOf: prefix.utf8)
        }
        prefixStorage = storage
        prefixRanges = ranges
    }

    /// The fingerprint of one exception.
    /// - Parameters:
    ///   - type: The exception's type (`java.util.concurrent.TimeoutException`, `ValueError`).
    ///   - message: Its message, as thrown; used, as a template, only when no frame is in-app.
    ///   - stackTrace: Its stack trace as text, the `Type: message` line included or not.
    /// - Returns: The fingerprint, with its id.
    public func fingerprint(type: String, message: String, stackTrace: String) -> ExceptionFingerprint {
        let type = Self.trimmed(type)
        var trace = stackTrace
        if let result = trace.utf8.withContiguousStorageIfAvailable({ fingerprint(type: type, message: message, trace: $0) }) {
            return result
        }
        trace.makeContiguousUTF8()
        return trace.utf8.withContiguousStorageIfAvailable { fingerprint(type: type, message: message, trace: $0) }
            ?? fingerprint(type: type, message: message, trace: UnsafeBufferPointer(start: nil, count: 0))
    }

    private func fingerprint(type: String, message: String, trace: UnsafeBufferPointer<UInt8>) -> ExceptionFingerprint {
        ScratchBytes.with { hashed in
            // The hashed text, built as the parts' lines: `type T\n`, then `frame F\n` for each frame.
            hashed.append("type ")
            var type = type
            type.withUTF8 { hashed.append($0) }
            hashed.append(0x0A)
            let typeEnd = hashed.count
            var names: [String] = []
            names.reserveCapacity(8)
            var lastName: Range<Int>?
            var reader = StackTraceReader(trace)
            while let line = reader.next() {
                let mark = hashed.count
                switch line {
                case .restart:
                    hashed.truncate(to: typeEnd)
                    names.removeAll(keepingCapacity: true)
                    lastName = nil
                    continue
                case .call(let rest):
                    // The in-app test runs on the name as thrown first, so that the usual
                    // library frame costs a line-end search and a few byte comparisons.
                    let start = FrameName.startWithoutModule(rest.lowerBound, lineEnd: rest.upperBound, in: trace)
                    guard mayBeInApp(trace, start..<rest.upperBound) else { continue }
                    let end = FrameName.end(from: start, lineEnd: rest.upperBound, in: trace)
                    guard end > start else { continue }
                    hashed.append("frame ")
                    guard FrameName.appendCall(trace, start..<end, to: &hashed) else {
                        hashed.truncate(to: mark)
                        continue
                    }
                case .python(let path, let function):
                    hashed.append("frame ")
                    FrameName.appendPython(trace, path: path, function: function, to: &hashed)
                }
                let name = (mark + 6)..<hashed.count
                guard isInApp(hashed, name), lastName.map({ !hashed.same($0, name) }) ?? true else {
                    hashed.truncate(to: mark)
                    continue
                }
                hashed.append(0x0A)
                names.append(hashed.string(name))
                lastName = name
            }
            var template: String?
            if names.isEmpty {
                var text = Self.trimmed(MessageTemplate.parameterize(message))
                hashed.append("message ")
                text.withUTF8 { hashed.append($0) }
                hashed.append(0x0A)
                template = text
            }
            // One call over the whole text: each SHA256 value allocates its context.
            let digest = SHA256.hash(data: UnsafeRawBufferPointer(hashed.written))
            return ExceptionFingerprint(id: ExceptionFingerprint.hexID(digest), exceptionType: type, frames: names, message: template)
        }
    }

    /// A quick test on the name as thrown (`rest` runs from its start to the line end), before
    /// finding its end and normalising it: false only when it differs from every prefix before
    /// any `$` or `/`, where normalising cannot have changed it.
    private func mayBeInApp(_ bytes: UnsafeBufferPointer<UInt8>, _ rest: Range<Int>) -> Bool {
        if prefixRanges.isEmpty { return true }
        return prefixStorage.withUnsafeBufferPointer { storage in
            prefixes: for prefix in prefixRanges {
                var index = rest.lowerBound
                for offset in prefix {
                    guard index < rest.upperBound else { continue prefixes }
                    let byte = bytes[index]
                    if byte == 0x24 || byte == 0x2F { return true }
                    if byte != storage[offset] { continue prefixes }
                    index += 1
                }
                return true
            }
            return false
        }
    }

    /// Whether a normalised name starts with one of the prefixes.
    private func isInApp(_ hashed: ScratchBytes, _ name: Range<Int>) -> Bool {
        if prefixRanges.isEmpty { return true }
        return prefixStorage.withUnsafeBufferPointer { storage in
            prefixRanges.contains { hashed.has(prefix: UnsafeBufferPointer(rebasing: storage[$0]), in: name) }
        }
    }

    /// The text without white space around it, copied only when there is some.
    static func trimmed(_ text: String) -> String {
        let isSpace = { (byte: UInt8) in byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D }
        let utf8 = text.utf8
        guard let first = utf8.first, let last = utf8.last, isSpace(first) || isSpace(last) else { return text }
        guard let start = utf8.firstIndex(where: { !isSpace($0) }), let end = utf8.lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(text[start...end])
    }
}
