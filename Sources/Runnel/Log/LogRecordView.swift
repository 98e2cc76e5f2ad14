/// A record seen in place, inside the batch bytes it was read with: no copies, no allocations.
///
/// Like the pointer `withUnsafeBytes` hands out, a view is valid only during the call that
/// gives it (``PartitionLog/forEachRecord(from:maxBytes:_:)``): copy what must outlive it, or
/// take ``record`` for an owned ``LogRecord``. This is the read path for consumers that decode
/// values straight from the bytes.
package struct LogRecordView {
    package let offset: Int64
    package let timestamp: Int64
    /// The key bytes, or nil for a record without a key.
    package let key: UnsafeRawBufferPointer?
    /// The value bytes, or nil for a tombstone.
    package let value: UnsafeRawBufferPointer?
    /// The encoded headers: a varint count, then the headers.
    private let headerBytes: UnsafeRawBufferPointer

    /// A view over a record's parts; `headerBytes` are encoded as in a record batch (see
    /// ``appendHeaders(_:to:)``).
    package init(offset: Int64, timestamp: Int64, key: UnsafeRawBufferPointer?, value: UnsafeRawBufferPointer?, headerBytes: UnsafeRawBufferPointer) {
        self.offset = offset
        self.timestamp = timestamp
        self.key = key
        self.value = value
        self.headerBytes = headerBytes
    }

    /// Appends a header count as a record batch holds it (a zig-zag varint); the headers
    /// follow with ``appendHeader(key:value:to:)``. These are the bytes a view built from a
    /// record that did not come from a batch (a Kafka client's message) walks.
    package static func appendHeaderCount(_ count: Int, to bytes: inout [UInt8]) {
        appendVarint(Int64(count), to: &bytes)
    }

    /// Appends one header as a record batch holds it: the key's length and bytes, then the
    /// value's (-1 for a null value).
    package static func appendHeader(key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer?, to bytes: inout [UInt8]) {
        appendVarint(Int64(key.count), to: &bytes)
        bytes.append(contentsOf: key)
        if let value {
            appendVarint(Int64(value.count), to: &bytes)
            bytes.append(contentsOf: value)
        } else {
            appendVarint(-1, to: &bytes)
        }
    }

    private static func appendVarint(_ value: Int64, to bytes: inout [UInt8]) {
        var v = UInt64(bitPattern: (value << 1) ^ (value >> 63))
        while v >= 0x80 {
            bytes.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    /// Calls `body` with each header's key and value (nil for a null value), in place.
    package func forEachHeader(_ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer?) -> Void) {
        // The batch passed its CRC; a malformed header section just ends the walk here, and
        // recovery and verify (``RecordBatch/check(_:at:header:)``) report it.
        try? walkHeaders(body)
    }

    /// Walks the headers, failing on anything that does not parse or does not fill the record.
    private func walkHeaders(_ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer?) -> Void) throws(RecordBatch.Problem) {
        var reader = ByteReader(headerBytes)
        do {
            let count = try reader.varint()
            guard count >= 0 else { throw RecordBatch.Problem.badRecords("negative header count") }
            for _ in 0..<count {
                guard let key = try reader.slice(count: Int(try reader.varint())) else {
                    throw RecordBatch.Problem.badRecords("a header without a key")
                }
                body(key, try reader.slice(count: Int(try reader.varint())))
            }
        } catch let problem as RecordBatch.Problem {
            throw problem
        } catch {
            throw .badRecords("a header runs past the end of its record")
        }
        guard reader.position == headerBytes.count else {
            throw .badRecords("record \(offset): its length does not match its fields")
        }
    }

    /// The value of the last header named `name`, in place; nil when there is none (or its
    /// value is null).
    package func header(_ name: String) -> UnsafeRawBufferPointer? {
        var found: UnsafeRawBufferPointer?
        var name = name
        name.withUTF8 { wanted in
            forEachHeader { key, value in
                if key.elementsEqual(UnsafeRawBufferPointer(wanted)) { found = value }
            }
        }
        return found
    }

    /// An owned copy of the record, headers included as far as they parse.
    package var record: LogRecord {
        (try? ownedRecord()) ?? LogRecord(offset: offset, timestamp: timestamp, key: key.map { Array($0) }, value: value.map { Array($0) })
    }

    /// Checks that the headers parse and fill the record, copying nothing.
    func checkHeaders() throws(RecordBatch.Problem) {
        try walkHeaders { _, _ in }
    }

    /// An owned copy of the record, failing when its headers do not parse.
    func ownedRecord() throws(RecordBatch.Problem) -> LogRecord {
        var headers: [RecordHeader] = []
        try walkHeaders { key, value in
            headers.append(RecordHeader(String(decoding: key, as: UTF8.self), value.map { Array($0) }))
        }
        return LogRecord(offset: offset, timestamp: timestamp, key: key.map { Array($0) }, value: value.map { Array($0) }, headers: headers)
    }
}
