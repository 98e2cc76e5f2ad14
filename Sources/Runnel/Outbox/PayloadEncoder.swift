import Foundation

/// Encodes outbox payloads as JSON: the same bytes as ``Outbox/makeEncoder()`` gives (sorted
/// keys, unescaped slashes, dates as whole milliseconds), written straight into one buffer.
///
/// Foundation's `JSONEncoder` builds a tree of boxed values and then writes it; for a payload
/// of a few hundred bytes that costs more than the rest of an outbox append. This encoder writes
/// each value where it goes, and sorts an object's members once the object is complete (its
/// members sit in the buffer as written; an object whose keys arrive out of order is rewritten
/// once, sorted).
///
/// It covers what `Codable` types usually do: numbers, strings, booleans, `nil`, dates, arrays,
/// objects and nested containers. Anything else (`Data`, `URL`, `Decimal`, super-encoders, a key
/// encoded twice, a container reopened, a value encoding nothing, a float that is not finite, a
/// container written after its parent moved on) makes it stop and encode the whole value again
/// with ``Outbox/makeEncoder()``, so the result, or the error, is always Foundation's.
package enum PayloadEncoder {
    /// The payload's JSON.
    /// - Throws: What `JSONEncoder` throws for the value (an `EncodingError`, or the value's own
    ///   error).
    package static func encode<Value: Encodable>(_ value: Value) throws -> String {
        let writer = spare.withLock { spare in
            defer { spare = nil }
            return spare
        } ?? PayloadWriter()
        defer {
            if writer.reset() { spare.withLock { $0 = writer } }
        }
        do {
            try writer.encodeTopLevel(value)
            if !writer.gaveUp { return String(decoding: writer.bytes, as: UTF8.self) }
        } catch {
            // A value's own error is the same when Foundation encodes it (it runs the same
            // `encode(to:)`); this writer's refusal is not an error at all.
            guard writer.gaveUp else { throw error }
        }
        return String(decoding: try foundation.encode(value), as: UTF8.self)
    }

    /// The encoder used for what ``PayloadWriter`` does not cover.
    private static let foundation = Outbox.makeEncoder()

    /// A writer kept for the next encode: making one (the object and its four arrays) cost a
    /// tenth of a small payload's encode. Appends on other threads meanwhile make their own.
    private static let spare = Locked<PayloadWriter?>(nil)
}

/// Why ``PayloadWriter`` stopped: never seen outside ``PayloadEncoder/encode(_:)``, which
/// then encodes the value with Foundation.
struct PayloadWriterGaveUp: Error {}

/// The buffer and the open containers of one ``PayloadEncoder/encode(_:)``.
///
/// Containers are stacked: the innermost open one is on top. Writing to a container below the
/// top closes the ones above it (a nested container is complete once its parent moves on);
/// writing to a closed one gives up.
final class PayloadWriter: @unchecked Sendable {
    // @unchecked: a writer serves one encode at a time; between encodes it is handed over
    // through ``PayloadEncoder``'s lock.

    /// One open container.
    struct Frame {
        /// The container's identity, which its container values carry.
        var id: Int
        /// An object (`{`), or an array (`[`).
        var isObject: Bool
        /// Where its opening bracket sits in ``PayloadWriter/bytes``.
        var start: Int
        /// Where its members begin in ``PayloadWriter/members``.
        var firstMember: Int
        /// Members or elements written so far.
        var count: Int
        /// Opened by a value's encoder: only that encoder closes it, when the value's
        /// `encode(to:)` returns.
        var ownedByEncoder: Bool
        /// The parent object's member this container is the value of, if any: its end is set
        /// when this container closes.
        var parentMember: Int?
    }

    /// A member of an open object, as written: `"key":value`, at `start..<end` of the buffer.
    struct Member {
        var key: String
        var start: Int
        var end: Int
    }

    // Unchecked: one encode uses a writer, on one thread, and no access to these overlaps
    // another. The dynamic checks a class's stored properties get otherwise were a fifth of an
    // encode's time.
    @exclusivity(unchecked) var bytes: [UInt8] = []
    @exclusivity(unchecked) private(set) var frames: [Frame] = []
    @exclusivity(unchecked) private var members: [Member] = []
    /// Where an object being sorted keeps a copy of its members' bytes.
    @exclusivity(unchecked) private var scratch: [UInt8] = []
    @exclusivity(unchecked) private var nextID = 0
    /// Set when the value needs something this writer leaves to Foundation.
    @exclusivity(unchecked) private(set) var gaveUp = false

    init() {
        bytes.reserveCapacity(512)
    }

    /// Empties the writer for another encode.
    /// - Returns: Whether it is worth keeping: false once a large payload has grown its buffer.
    func reset() -> Bool {
        bytes.removeAll(keepingCapacity: true)
        frames.removeAll(keepingCapacity: true)
        members.removeAll(keepingCapacity: true)
        scratch.removeAll(keepingCapacity: true)
        nextID = 0
        gaveUp = false
        return bytes.capacity <= 64 * 1024 && scratch.capacity <= 64 * 1024
    }

    /// Records that this writer cannot go on, and returns the error that unwinds the value's
    /// `encode(to:)` (for the methods that cannot throw, the flag alone is enough).
    func giveUp() -> PayloadWriterGaveUp {
        gaveUp = true
        return PayloadWriterGaveUp()
    }

    /// Runs `write`, giving up when it throws: a value's error leaves a member half written,
    /// and if the value's own code catches the error and goes on, what to make of that is
    /// Foundation's to say.
    @inline(__always)
    func failing(_ write: () throws -> Void) throws {
        do {
            try write()
        } catch {
            gaveUp = true
            throw error
        }
    }

    func encodeTopLevel<Value: Encodable>(_ value: Value) throws {
        if try writeSpecial(value) { return }
        let encoder = PayloadValueEncoder(writer: self, parent: nil, path: [])
        try value.encode(to: encoder)
        try encoder.finish()
        guard frames.isEmpty else { throw giveUp() }
    }

    // MARK: - Containers

    /// Opens a container at the current position.
    /// - Returns: Its identity.
    func open(object: Bool, ownedByEncoder: Bool, parentMember: Int? = nil) -> Int {
        nextID += 1
        frames.append(Frame(id: nextID, isObject: object, start: bytes.count, firstMember: members.count, count: 0,
                            ownedByEncoder: ownedByEncoder, parentMember: parentMember))
        bytes.append(object ? UInt8(ascii: "{") : UInt8(ascii: "["))
        return nextID
    }

    /// Makes container `id` the innermost open one, closing the nested containers above it.
    /// - Throws: When it is closed, or a value's encoder above it is still running.
    func prepare(_ id: Int) throws {
        guard !gaveUp else { throw PayloadWriterGaveUp() }
        if let top = frames.last, top.id == id { return }
        try closeNested(above: id)
    }

    /// Closes the nested containers opened above container `id`.
    /// - Throws: When `id` is closed, or a value's encoder above it is still running.
    private func closeNested(above id: Int) throws {
        guard let index = frames.lastIndex(where: { $0.id == id }) else { throw giveUp() }
        while frames.count > index + 1 {
            guard !frames[frames.count - 1].ownedByEncoder else { throw giveUp() }
            try closeTop()
        }
    }

    /// Closes the innermost open container, sorting an object's members.
    func closeTop() throws {
        let frame = frames.removeLast()
        if frame.isObject {
            try sortMembers(of: frame)
            members.removeSubrange(frame.firstMember...)
            bytes.append(UInt8(ascii: "}"))
        } else {
            bytes.append(UInt8(ascii: "]"))
        }
        if let parentMember = frame.parentMember {
            members[parentMember].end = bytes.count
        }
    }

    /// Closes the container a value's encoder opened, with everything opened inside it.
    func close(ownedBy id: Int) throws {
        guard !gaveUp else { throw giveUp() }
        try closeNested(above: id)
        try closeTop()
    }

    /// Rewrites an object's members in key order, as `JSONEncoder` with `.sortedKeys` gives
    /// them (by `String`'s `<`). Objects have few members: an insertion sort, in place.
    private func sortMembers(of frame: Frame) throws {
        let first = frame.firstMember, end = members.count
        guard end - first > 1 else { return }
        // Keys in strictly increasing order need nothing more (and hold no duplicate).
        if ((first + 1)..<end).allSatisfy({ members[$0 - 1].key < members[$0].key }) { return }
        for index in (first + 1)..<end {
            let member = members[index]
            var slot = index
            while slot > first, member.key < members[slot - 1].key {
                members[slot] = members[slot - 1]
                slot -= 1
            }
            members[slot] = member
        }
        for index in (first + 1)..<end where members[index - 1].key == members[index].key {
            throw giveUp()
        }
        let base = frame.start + 1
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: bytes[base...])
        bytes.removeLast(bytes.count - base)
        for index in first..<end {
            if index > first { bytes.append(UInt8(ascii: ",")) }
            bytes.append(contentsOf: scratch[(members[index].start - base)..<(members[index].end - base)])
        }
    }

    /// Starts a member of object `id`: the separator, the key and the colon.
    /// - Returns: The member's index, for ``endMember(_:)``.
    func beginMember(of id: Int, key: String) throws -> Int {
        try prepare(id)
        if frames[frames.count - 1].count > 0 { bytes.append(UInt8(ascii: ",")) }
        frames[frames.count - 1].count += 1
        members.append(Member(key: key, start: bytes.count, end: -1))
        writeString(key)
        bytes.append(UInt8(ascii: ":"))
        return members.count - 1
    }

    func endMember(_ index: Int) {
        members[index].end = bytes.count
    }

    /// Starts an element of array `id`: the separator.
    func beginElement(of id: Int) throws {
        try prepare(id)
        if frames[frames.count - 1].count > 0 { bytes.append(UInt8(ascii: ",")) }
        frames[frames.count - 1].count += 1
    }
}
