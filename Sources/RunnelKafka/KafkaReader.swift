import CRdKafka
import Foundation
import Runnel

/// Reads chosen partitions from chosen offsets with librdkafka's partition-assigned (simple)
/// consumer: no consumer group, no offsets committed to Kafka. Whoever reads keeps its own
/// offsets (a pipeline in `derived.sqlite`, with its views). Used from one thread at a time.
final class KafkaReader {
    let handle: KafkaHandle
    private var topics: [String: OpaquePointer] = [:]
    private var positions: [Key: Position] = [:]
    private var batch = [UnsafeMutablePointer<rd_kafka_message_t>?](repeating: nil, count: 1000)
    /// Header bytes of the message in hand, reused from one message to the next.
    private var headerScratch: [UInt8] = []

    private struct Key: Hashable {
        var topic: String
        var partition: Int32
    }

    /// A partition being consumed: the offset the next message handed out will be at least,
    /// and messages fetched but not handed out yet.
    private struct Position {
        var next: Int64
        var pending: ArraySlice<UnsafeMutablePointer<rd_kafka_message_t>> = []
    }

    init(settings: KafkaSettings) throws {
        handle = try KafkaHandle(RD_KAFKA_CONSUMER, settings: settings, own: [
            "enable.partition.eof": "true",
            "enable.auto.commit": "false",
            "enable.auto.offset.store": "false",
            // An offset retention removed is an error the reader reports, never a silent jump.
            "auto.offset.reset": "error",
            "allow.auto.create.topics": "false",
            // A fetch of one record up to Runnel's largest still fits a response.
            "receive.message.max.bytes": "1100000000",
        ], defaults: [
            // Prefetch at most 8 MiB per partition being read (librdkafka's default is 64 MiB).
            "queued.max.messages.kbytes": "8192",
        ])
    }

    deinit {
        for key in Array(positions.keys) { stop(key) }
        for topic in topics.values { rd_kafka_topic_destroy(topic) }
    }

    var settings: KafkaSettings { handle.settings }

    private func topicHandle(_ name: String) throws -> OpaquePointer {
        if let known = topics[name] { return known }
        guard let made = rd_kafka_topic_new(handle.pointer, name, nil) else {
            throw KafkaFailure.error(rd_kafka_last_error(), doing: "opening topic \(name) to read", settings: settings)
        }
        topics[name] = made
        return made
    }

    /// A topic's partition count, or nil when the cluster has no such topic.
    func partitionCount(of topic: String) throws -> Int? { try handle.partitionCount(of: topic) }

    /// Whether ``latestWatermarks(_:_:)`` may answer from the last fetch (a follower, for which
    /// an end one fetch old is as good) instead of asking the leader.
    var usesFetchedEnds = false

    /// The first offset a partition holds and the offset its next record will get: for a
    /// follower (``usesFetchedEnds``) reading the partition, as its last fetch saw them — no
    /// request, the fetcher asks the leader every `fetch.wait.max.ms` anyway — else asked of
    /// the partition's leader.
    func latestWatermarks(_ topic: String, _ partition: Int) throws -> (low: Int64, high: Int64) {
        if usesFetchedEnds, positions[Key(topic: topic, partition: Int32(partition))] != nil {
            var low: Int64 = -1, high: Int64 = -1
            if rd_kafka_get_watermark_offsets(handle.pointer, topic, Int32(partition), &low, &high) == RD_KAFKA_RESP_ERR_NO_ERROR,
               low >= 0, high >= 0 {
                return (low, high)
            }
        }
        return try watermarks(topic, partition)
    }

    /// The first offset a partition holds and the offset its next record will get, asked of
    /// the partition's leader.
    func watermarks(_ topic: String, _ partition: Int) throws -> (low: Int64, high: Int64) {
        var low: Int64 = 0, high: Int64 = 0
        let code = rd_kafka_query_watermark_offsets(handle.pointer, topic, Int32(partition), &low, &high, settings.requestTimeoutMs)
        guard code == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw KafkaFailure.error(code, doing: "reading the offsets of \(topic)/\(partition)", settings: settings)
        }
        return (low, high)
    }

    /// Stops fetching a partition, dropping what was prefetched.
    func stop(_ topic: String, _ partition: Int) {
        stop(Key(topic: topic, partition: Int32(partition)))
    }

    private func stop(_ key: Key) {
        guard let position = positions.removeValue(forKey: key) else { return }
        for message in position.pending { rd_kafka_message_destroy(message) }
        if let topic = topics[key.topic] { rd_kafka_consume_stop(topic, key.partition) }
    }

    /// Calls `body` with the messages of a partition from `offset` on, in order, until it
    /// returns false or the offset `end` is reached.
    /// - Returns: The offset to read next.
    /// - Throws: ``RunnelError`` `.kafka` when the cluster reports an error for the partition,
    ///   or delivers nothing for ``KafkaSettings/requestTimeout`` though records up to `end`
    ///   exist.
    func read(_ topic: String, _ partition: Int, from offset: Int64, to end: Int64,
              _ body: (UnsafeMutablePointer<rd_kafka_message_t>) throws -> Bool) throws -> Int64 {
        guard offset < end else { return offset }
        let key = Key(topic: topic, partition: Int32(partition))
        let topicHandle = try topicHandle(topic)
        if positions[key]?.next != offset {
            stop(key)
            guard rd_kafka_consume_start(topicHandle, key.partition, offset) == 0 else {
                throw KafkaFailure.error(rd_kafka_last_error(), doing: "starting to read \(topic)/\(partition) at offset \(offset)", settings: settings)
            }
            positions[key] = Position(next: offset)
        }
        var next = offset
        var idleSince = ContinuousClock.now
        /// Set when the partition said it ends below `end`: a reader of committed records
        /// stops there while another producer holds a transaction open.
        var endedBelow = false
        do {
            while next < end {
                if positions[key]!.pending.isEmpty {
                    // As many as are known to be there: the call returns once it has them,
                    // rather than waiting out its timeout for a fuller batch.
                    let wanted = Int(min(Int64(batch.count), end - next))
                    let count = batch.withUnsafeMutableBufferPointer {
                        rd_kafka_consume_batch(topicHandle, key.partition, 100, $0.baseAddress, wanted)
                    }
                    guard count >= 0 else {
                        throw KafkaFailure.error(rd_kafka_last_error(), doing: "reading \(topic)/\(partition)", settings: settings)
                    }
                    if count == 0 {
                        // The partition said it ends here, and nothing came for a while: that is
                        // its readable end for now, not a broker that does not answer.
                        if endedBelow, ContinuousClock.now - idleSince > .seconds(2) { break }
                        if ContinuousClock.now - idleSince > settings.requestTimeout {
                            throw RunnelError(.kafka, "Kafka at \(settings.bootstrapServers) delivered nothing of \(topic)/\(partition) from offset \(next) for \(settings.requestTimeout), though the partition's offsets reach \(end - 1)",
                                              hint: "Check that the partition's leader runs and answers (or whether another producer holds a transaction open on the partition); nothing was lost, run the command again once it does")
                        }
                        continue
                    }
                    positions[key]!.pending = ArraySlice(batch[0..<count].compactMap { $0 })
                }
                let message = positions[key]!.pending.first!
                let code = message.pointee.err
                // A record at or past `end` is left for the read that wants it.
                if code == RD_KAFKA_RESP_ERR_NO_ERROR, message.pointee.offset >= end { break }
                positions[key]!.pending.removeFirst()
                defer { rd_kafka_message_destroy(message) }
                if code == RD_KAFKA_RESP_ERR__PARTITION_EOF {
                    // The partition ends here for now: offsets below that were records this
                    // reader does not see (transaction markers, compacted away).
                    next = max(next, message.pointee.offset)
                    positions[key]!.next = next
                    endedBelow = next < end
                    continue
                }
                guard code == RD_KAFKA_RESP_ERR_NO_ERROR else {
                    let detail = rd_kafka_message_errstr(message).map { String(cString: $0) }
                    throw KafkaFailure.error(code, doing: "reading \(topic)/\(partition) at offset \(next)", settings: settings, detail: detail)
                }
                idleSince = ContinuousClock.now
                endedBelow = false
                guard message.pointee.offset >= next else { continue }
                next = message.pointee.offset + 1
                positions[key]!.next = next
                if try !body(message) { break }
            }
        } catch {
            // Where the fetcher stands is unknown after a failure: the next read starts afresh.
            stop(key)
            throw error
        }
        return next
    }

    /// A message's owned copy, headers included.
    static func record(of message: UnsafeMutablePointer<rd_kafka_message_t>) -> LogRecord {
        var headers: [RecordHeader] = []
        forEachHeader(of: message) { name, value in
            headers.append(RecordHeader(String(decoding: name, as: UTF8.self), value.map { Array($0) }))
        }
        return LogRecord(offset: message.pointee.offset, timestamp: timestamp(of: message),
                         key: bytes(message.pointee.key, message.pointee.key_len).map { Array($0) },
                         value: bytes(message.pointee.payload, message.pointee.len).map { Array($0) },
                         headers: headers)
    }

    /// Calls `body` with a view of the message, valid during the call.
    func withView<T>(of message: UnsafeMutablePointer<rd_kafka_message_t>, _ body: (LogRecordView) throws -> T) rethrows -> T {
        // Encoded straight into the reused buffer: no allocation per record once it has grown.
        headerScratch.removeAll(keepingCapacity: true)
        var list: OpaquePointer?
        let count = rd_kafka_message_headers(message, &list) == RD_KAFKA_RESP_ERR_NO_ERROR ? list.map { rd_kafka_header_cnt($0) } ?? 0 : 0
        LogRecordView.appendHeaderCount(count, to: &headerScratch)
        Self.forEachHeader(of: message) { LogRecordView.appendHeader(key: $0, value: $1, to: &headerScratch) }
        return try headerScratch.withUnsafeBytes { headerBytes in
            try body(LogRecordView(offset: message.pointee.offset, timestamp: Self.timestamp(of: message),
                                   key: Self.bytes(message.pointee.key, message.pointee.key_len),
                                   value: Self.bytes(message.pointee.payload, message.pointee.len),
                                   headerBytes: headerBytes))
        }
    }

    private static func bytes(_ pointer: UnsafeMutableRawPointer?, _ count: Int) -> UnsafeRawBufferPointer? {
        guard let pointer else { return nil }
        return UnsafeRawBufferPointer(start: pointer, count: count)
    }

    private static func timestamp(of message: UnsafeMutablePointer<rd_kafka_message_t>) -> Int64 {
        var type = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
        let time = rd_kafka_message_timestamp(message, &type)
        return type == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE ? -1 : time
    }

    private static func forEachHeader(of message: UnsafeMutablePointer<rd_kafka_message_t>,
                                      _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer?) -> Void) {
        var list: OpaquePointer?
        guard rd_kafka_message_headers(message, &list) == RD_KAFKA_RESP_ERR_NO_ERROR, let list else { return }
        var index = 0
        while true {
            var name: UnsafePointer<CChar>?
            var value: UnsafeRawPointer?
            var size = 0
            guard rd_kafka_header_get_all(list, index, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR, let name else { return }
            body(UnsafeRawBufferPointer(start: name, count: strlen(name)), value.map { UnsafeRawBufferPointer(start: $0, count: size) })
            index += 1
        }
    }
}
