#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#else
import Darwin
#endif

/// Normalises the name of a frame read by ``StackTraceReader`` into the `package.Class.method`
/// form a fingerprint holds, leaving out what changes between builds, JVM versions and runs of
/// the same code: line numbers and file names (never part of the name read), and the code
/// generators' decorations.
///
/// | frame as thrown | normalised |
/// |---|---|
/// | `app//com.example.Foo.bar`, `java.base/java.lang.Thread.run` | `com.example.Foo.bar`, `java.lang.Thread.run` (module or class loader dropped) |
/// | `com.example.Foo$1.run`, `com.example.Foo$Inner$2.call` | `com.example.Foo.run`, `com.example.Foo$Inner.call` (anonymous classes) |
/// | `com.example.Foo.lambda$fetch$0`, `Foo.$anonfun$fetch$1` | `com.example.Foo.fetch`, `Foo.fetch` |
/// | `com.example.Foo$$EnhancerByCGLIB$$a1b2.save`, `Foo$$SpringCGLIB$$0.save` | `com.example.Foo.save` (everything from `$$`) |
/// | `jdk.proxy2.$Proxy12.fetch`, `com.sun.proxy.$Proxy7.fetch` | `jdk.proxy2.$Proxy.fetch`, `com.sun.proxy.$Proxy.fetch` |
/// | `java.lang.invoke.LambdaForm$MH/0x0000000800c1c000.invoke` | `java.lang.invoke.LambdaForm$MH.invoke` (hidden class suffix) |
/// | `com.example.Foo.fetch$default` | `com.example.Foo.fetch` (Kotlin's suffixes) |
/// | `com.example.Foo.<init>`, `<clinit>` | kept |
/// | `Module.function:12:7` | `Module.function` (a location left in a generic name) |
/// | `app/feed/ranking.py` in `handler` | `app/feed/ranking.handler` |
///
/// Two kinds of frame are dropped altogether, because whether they appear at all depends on
/// the compiler or the JVM rather than on the code: lambda classes (`Foo$$Lambda$14/0x….apply`,
/// hidden by default since JDK 9) and synthetic accessors (`Foo.access$000`, gone with Java 11's
/// nest mates).
enum FrameName {
    /// Appends the normalised name of an `at NAME` frame.
    /// - Parameters:
    ///   - bytes: The trace.
    ///   - name: The name's range, from ``startWithoutModule(_:lineEnd:in:)`` to ``end(from:lineEnd:in:)``.
    ///   - output: Where the name goes.
    /// - Returns: False, with nothing appended, for a frame that is dropped.
    static func appendCall(_ bytes: UnsafeBufferPointer<UInt8>, _ name: Range<Int>, to output: inout ScratchBytes) -> Bool {
        var end = name.upperBound
        // A location left in a generic name: `handler:12:7`.
        while end > name.lowerBound, isDigit(bytes[end - 1]) {
            var digits = end
            while digits > name.lowerBound, isDigit(bytes[digits - 1]) { digits -= 1 }
            guard digits > name.lowerBound, bytes[digits - 1] == 0x3A else { break }
            end = digits - 1
        }
        var dot = end
        while dot > name.lowerBound, bytes[dot - 1] != 0x2E { dot -= 1 }
        let method = dot..<end
        guard !has("access$", bytes, in: method) else { return false }
        let mark = output.count
        if dot > name.lowerBound {
            guard appendClass(bytes, name.lowerBound..<(dot - 1), to: &output) else {
                output.truncate(to: mark)
                return false
            }
            output.append(0x2E)
        }
        appendMethod(bytes, method, to: &output)
        return true
    }

    /// Appends `PATH` without its `.py` and `.FUNCTION`: `app/feed/ranking.handler`.
    static func appendPython(_ bytes: UnsafeBufferPointer<UInt8>, path: Range<Int>, function: Range<Int>, to output: inout ScratchBytes) {
        var pathEnd = path.upperBound
        if path.count > 3, has(".py", bytes, in: (pathEnd - 3)..<pathEnd) { pathEnd -= 3 }
        var pathStart = path.lowerBound
        if has("./", bytes, in: pathStart..<pathEnd) { pathStart += 2 }
        output.append(bytes, pathStart..<pathEnd)
        output.append(0x2E)
        output.append(bytes, function)
    }

    /// Where the name starts once a JVM module or class loader before a `/` is left out
    /// (`java.base/`, `app//`, `jdk.internal.vm.ci@17/`): a prefix of letters, digits and `.-_@`,
    /// which rules out the `/` of a lambda's hidden class (after a `$`) and of a path.
    /// - Parameters:
    ///   - start: Where the name starts.
    ///   - lineEnd: Where its line ends.
    static func startWithoutModule(_ start: Int, lineEnd: Int, in bytes: UnsafeBufferPointer<UInt8>) -> Int {
        // memchr first: most lines have no `/` at all, and are done with one vector scan.
        guard let base = bytes.baseAddress, start < lineEnd, let found = memchr(base + start, 0x2F, lineEnd - start) else { return start }
        let slash = UnsafeRawPointer(found) - UnsafeRawPointer(base)
        guard slash > start else { return start }
        for index in start..<slash {
            let byte = bytes[index]
            let letter = (byte | 0x20) &- 0x61 < 26
            let punctuation = byte == 0x2E || byte == 0x2D || byte == 0x5F || byte == 0x40  // . - _ @
            if !(letter || isDigit(byte) || punctuation) { return start }
        }
        var index = slash
        while index < lineEnd, bytes[index] == 0x2F { index += 1 }
        return index
    }

    /// Where a name starting at `start` ends: at `(`, a space, a tab or the line end.
    static func end(from start: Int, lineEnd: Int, in bytes: UnsafeBufferPointer<UInt8>) -> Int {
        var index = start
        while index < lineEnd {
            let byte = bytes[index]
            if byte == 0x28 || byte == 0x20 || byte == 0x09 { break }
            index += 1
        }
        return index
    }

    /// Copies the class part, leaving out `$digits` (anonymous classes), everything from `$$`
    /// (generated subclasses) or `/` (hidden class suffixes), and the number of `$ProxyN`.
    /// - Returns: False for a lambda class (`$$Lambda`), whose frame is dropped.
    private static func appendClass(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, to output: inout ScratchBytes) -> Bool {
        var runStart = range.lowerBound
        var index = range.lowerBound
        func flush() {
            if index > runStart { output.append(bytes, runStart..<index) }
        }
        while index < range.upperBound {
            let byte = bytes[index]
            if byte == 0x2F {  // /
                flush()
                return true
            }
            guard byte == 0x24 else {  // $
                index += 1
                continue
            }
            let next = index + 1
            if next < range.upperBound, bytes[next] == 0x24 {
                if has("Lambda", bytes, in: (next + 1)..<range.upperBound) { return false }
                flush()
                return true
            }
            var digitsEnd = next
            while digitsEnd < range.upperBound, isDigit(bytes[digitsEnd]) { digitsEnd += 1 }
            if digitsEnd > next, digitsEnd == range.upperBound || bytes[digitsEnd] == 0x24 {
                flush()
                index = digitsEnd
                runStart = index
                continue
            }
            if has("Proxy", bytes, in: next..<range.upperBound) {
                var proxyEnd = next + 5
                while proxyEnd < range.upperBound, isDigit(bytes[proxyEnd]) { proxyEnd += 1 }
                if proxyEnd > next + 5, proxyEnd == range.upperBound {
                    index = next + 5
                    flush()
                    return true
                }
            }
            index += 1
        }
        flush()
        return true
    }

    /// Copies the method: the name inside `lambda$NAME$0` or `$anonfun$NAME$1`, otherwise
    /// what comes before a `$` (`fetch$default`, `fetch$suspendImpl`).
    private static func appendMethod(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, to output: inout ScratchBytes) {
        var start = range.lowerBound
        if has("lambda$", bytes, in: range) {
            start += 7
        } else if has("$anonfun$", bytes, in: range) {
            start += 9
        }
        var end = start
        while end < range.upperBound, bytes[end] != 0x24 { end += 1 }
        if end == start {
            // Nothing before the `$` (`$jacocoInit`): keep the name as it is.
            start = range.lowerBound
            end = range.upperBound
        }
        output.append(bytes, start..<end)
    }

    @inline(__always) private static func isDigit(_ byte: UInt8) -> Bool { byte &- 0x30 < 10 }

    /// Whether the bytes in `range` start with `text`.
    private static func has(_ text: StaticString, _ bytes: UnsafeBufferPointer<UInt8>, in range: Range<Int>) -> Bool {
        let length = text.utf8CodeUnitCount
        guard range.count >= length else { return false }
        let pointer = text.utf8Start
        for offset in 0..<length where bytes[range.lowerBound + offset] != pointer[offset] { return false }
        return true
    }
}
