/// One record of the log: a Kafka record (key, value, headers, timestamp) at an offset.
///
/// When appending, ``offset`` is ignored: the log assigns offsets.
package struct LogRecord: Sendable, Hashable {
    /// The record's position in its partition.
    package var offset: Int64
    /// Milliseconds since 1970 (Kafka `CreateTime`; Runnel uses the event time).
    package var timestamp: Int64
    /// The key bytes, or nil for a record without a key.
    package var key: [UInt8]?
    /// The value bytes, or nil for a tombstone (deletes the key in a compacted topic).
    package var value: [UInt8]?
    /// Headers, in order; keys may repeat.
    package var headers: [RecordHeader]

    /// Creates a record.
    package init(offset: Int64 = 0, timestamp: Int64, key: [UInt8]?, value: [UInt8]?, headers: [RecordHeader] = []) {
        self.offset = offset
        self.timestamp = timestamp
        self.key = key
        self.value = value
        self.headers = headers
    }

    /// Key, value and header bytes: what a topic's maximum record size limits.
    package var sizeInBytes: Int {
        var size = (key?.count ?? 0) + (value?.count ?? 0)
        for header in headers { size += header.key.utf8.count + (header.value?.count ?? 0) }
        return size
    }

    /// The value of the last header with this key, if any.
    package func header(_ key: String) -> [UInt8]? {
        headers.last { $0.key == key }?.value
    }
}

/// A Kafka record header: a string key and a byte value (nil is allowed).
package struct RecordHeader: Sendable, Hashable {
    package var key: String
    package var value: [UInt8]?

    package init(_ key: String, _ value: [UInt8]?) {
        self.key = key
        self.value = value
    }

    package init(_ key: String, _ value: String) {
        self.init(key, Array(value.utf8))
    }
}
