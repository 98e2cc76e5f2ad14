import CRdKafka
import Foundation
import Runnel

/// An idempotent librdkafka producer: records of a partition land in the order they were
/// produced, once each, whatever the retries (`enable.idempotence`, `acks=all`), and never
/// with a gap (`enable.gapless.guarantee`: a batch that fails for good stops the producer
/// rather than letting later batches of its partition land, so what a partition holds of a
/// cycle is always a prefix of it). Used from one thread at a time.
final class KafkaProducer {
    let handle: KafkaHandle
    private let deliveries: Deliveries
    private var topics: [String: OpaquePointer] = [:]
    /// `rd_kafka_produceva`'s arguments, refilled for each record rather than allocated.
    private var arguments = [rd_kafka_vu_t](repeating: rd_kafka_vu_t(), count: 7)

    /// What the delivery reports said since the last ``flush()``.
    final class Deliveries {
        var delivered = 0
        var failed = 0
        var firstFailure: (code: rd_kafka_resp_err_t, status: rd_kafka_msg_status_t)?
        /// Whether a failed record may still have been stored (its request reached a broker).
        var possiblyStored = false
    }

    /// When the last failed delivery that may have been stored was reported: a reader of the
    /// partition's tail waits a request timeout past it (see ``KafkaDestination``).
    private(set) var possiblyStoredFailureAt: ContinuousClock.Instant?

    init(settings: KafkaSettings) throws {
        let deliveries = Deliveries()
        self.deliveries = deliveries
        handle = try KafkaHandle(RD_KAFKA_PRODUCER, settings: settings, own: [
            "enable.idempotence": "true",
            "enable.gapless.guarantee": "true",
            "acks": "all",
            // Records up to librdkafka's largest (10⁹ bytes, just under Runnel's 1 GiB limit);
            // the cluster's topic limit still applies.
            "message.max.bytes": "1000000000",
            // How long the brokers may take to acknowledge (with acks=all, to replicate): what
            // a reader of the tail waits past a failure that may have been stored.
            "request.timeout.ms": String(min(max(settings.requestTimeout.milliseconds, 1), 900_000)),
            // Topics are made with their partition count on purpose (see KafkaDestination),
            // never by a metadata request with the cluster's default count.
            "allow.auto.create.topics": "false",
            "message.timeout.ms": String(settings.deliveryTimeout.milliseconds),
        ], defaults: [
            "linger.ms": "5",
            "queue.buffering.max.messages": "1000000",
        ]) { configuration in
            rd_kafka_conf_set_opaque(configuration, Unmanaged.passUnretained(deliveries).toOpaque())
            rd_kafka_conf_set_dr_msg_cb(configuration) { _, message, opaque in
                guard let message, let opaque else { return }
                let deliveries = Unmanaged<KafkaProducer.Deliveries>.fromOpaque(opaque).takeUnretainedValue()
                if message.pointee.err == RD_KAFKA_RESP_ERR_NO_ERROR {
                    deliveries.delivered += 1
                } else {
                    deliveries.failed += 1
                    let status = rd_kafka_message_status(message)
                    if status != RD_KAFKA_MSG_STATUS_NOT_PERSISTED { deliveries.possiblyStored = true }
                    if deliveries.firstFailure == nil {
                        deliveries.firstFailure = (message.pointee.err, status)
                    }
                }
            }
        }
    }

    deinit {
        // Records never sent are dropped (their rows stay in the outbox, or their position is
        // not stored); records on their way are waited for, so none lands after the next
        // reader of the tail looked.
        rd_kafka_purge(handle.pointer, Int32(RD_KAFKA_PURGE_F_QUEUE))
        _ = rd_kafka_flush(handle.pointer, Int32(clamping: handle.settings.deliveryTimeout.milliseconds))
        for topic in topics.values { rd_kafka_topic_destroy(topic) }
    }

    private func topicHandle(_ name: String) throws -> OpaquePointer {
        if let known = topics[name] { return known }
        guard let made = rd_kafka_topic_new(handle.pointer, name, nil) else {
            throw KafkaFailure.error(rd_kafka_last_error(), doing: "opening topic \(name) to produce", settings: handle.settings)
        }
        topics[name] = made
        return made
    }

    /// Queues a record for a partition (copied; delivered in the background), with its key,
    /// value, headers and timestamp as they are.
    func produce(_ record: LogRecord, topic: String, partition: Int) throws {
        let topicHandle = try topicHandle(topic)
        while true {
            guard let list = rd_kafka_headers_new(record.headers.count) else { throw KafkaFailure.error("cannot allocate Kafka headers") }
            for header in record.headers {
                if let value = header.value {
                    value.withUnsafeBytes { _ = rd_kafka_header_add(list, header.key, -1, $0.baseAddress, $0.count) }
                } else {
                    rd_kafka_header_add(list, header.key, -1, nil, 0)
                }
            }
            let code: rd_kafka_resp_err_t
            let detail: String
            let error = Self.withBytes(record.key) { key in
                Self.withBytes(record.value) { value in
                    arguments[0].vtype = RD_KAFKA_VTYPE_RKT
                    arguments[0].u.rkt = topicHandle
                    arguments[1].vtype = RD_KAFKA_VTYPE_PARTITION
                    arguments[1].u.i32 = Int32(partition)
                    arguments[2].vtype = RD_KAFKA_VTYPE_MSGFLAGS
                    arguments[2].u.i = RD_KAFKA_MSG_F_COPY
                    arguments[3].vtype = RD_KAFKA_VTYPE_TIMESTAMP
                    arguments[3].u.i64 = record.timestamp
                    arguments[4].vtype = RD_KAFKA_VTYPE_HEADERS
                    arguments[4].u.headers = list
                    var count = 5
                    // A null value is a tombstone, a null key no key: both are left out.
                    if let value {
                        arguments[count].vtype = RD_KAFKA_VTYPE_VALUE
                        arguments[count].u.mem.ptr = UnsafeMutableRawPointer(mutating: value)
                        arguments[count].u.mem.size = record.value?.count ?? 0
                        count += 1
                    }
                    if let key {
                        arguments[count].vtype = RD_KAFKA_VTYPE_KEY
                        arguments[count].u.mem.ptr = UnsafeMutableRawPointer(mutating: key)
                        arguments[count].u.mem.size = record.key?.count ?? 0
                        count += 1
                    }
                    return rd_kafka_produceva(handle.pointer, arguments, count)
                }
            }
            guard let error else { return }
            code = rd_kafka_error_code(error)
            detail = String(cString: rd_kafka_error_string(error))
            rd_kafka_error_destroy(error)
            // The headers belong to librdkafka only when the record was taken.
            rd_kafka_headers_destroy(list)
            guard code == RD_KAFKA_RESP_ERR__QUEUE_FULL else {
                throw KafkaFailure.error(code, doing: "producing to \(topic)/\(partition)", settings: handle.settings, detail: detail)
            }
            // The local queue is full: serve delivery reports until there is room.
            rd_kafka_poll(handle.pointer, 100)
        }
    }

    /// The address of the bytes (a non-null one for an empty array), or nil for nil.
    private static func withBytes<T>(_ bytes: [UInt8]?, _ body: (UnsafeRawPointer?) -> T) -> T {
        guard let bytes else { return body(nil) }
        if bytes.isEmpty {
            var empty: UInt8 = 0
            return withUnsafePointer(to: &empty) { body(UnsafeRawPointer($0)) }
        }
        return bytes.withUnsafeBytes { body($0.baseAddress) }
    }

    /// Serves delivery reports without waiting.
    func poll() { rd_kafka_poll(handle.pointer, 0) }

    /// Waits until every queued record is acknowledged or has failed — all of them, even after
    /// a first failure, so that none is still on its way when the caller reads the tail.
    /// - Returns: How many were delivered since the last flush.
    /// - Throws: ``RunnelError`` `.kafka` when any failed: some of them may be in the cluster
    ///   and some not, and this producer should not be used again.
    @discardableResult
    func flush() throws -> Int {
        // Every record ends, acknowledged or failed, within the delivery timeout.
        while rd_kafka_outq_len(handle.pointer) > 0 {
            _ = rd_kafka_flush(handle.pointer, 1000)
        }
        let delivered = deliveries.delivered, failed = deliveries.failed, first = deliveries.firstFailure
        if deliveries.possiblyStored { possiblyStoredFailureAt = ContinuousClock.now }
        deliveries.delivered = 0
        deliveries.failed = 0
        deliveries.firstFailure = nil
        deliveries.possiblyStored = false
        if failed > 0, let first {
            let status = first.status == RD_KAFKA_MSG_STATUS_NOT_PERSISTED ? "not stored" : "perhaps stored"
            throw KafkaFailure.error(first.code, doing: "delivering \(failed) record(s) (\(delivered) were acknowledged; the first failure was \(status))",
                                     settings: handle.settings)
        }
        var fatal = [CChar](repeating: 0, count: 512)
        let fatalCode = rd_kafka_fatal_error(handle.pointer, &fatal, fatal.count)
        if fatalCode != RD_KAFKA_RESP_ERR_NO_ERROR {
            throw KafkaFailure.error(RD_KAFKA_RESP_ERR__FATAL, doing: "producing", settings: handle.settings, detail: fatal.cText)
        }
        return delivered
    }

    /// Creates a topic through the admin API.
    /// - Throws: ``RunnelError`` `.kafka` when the cluster refuses (a cluster without the
    ///   CreateTopics API, such as librdkafka's mock, says so in the message).
    func createTopic(_ name: String, partitions: Int, configuration: [String: String]) throws {
        let settings = handle.settings
        var errorText = [CChar](repeating: 0, count: 512)
        guard let topic = rd_kafka_NewTopic_new(name, Int32(partitions), -1, &errorText, errorText.count) else {
            throw RunnelError(.kafka, "cannot describe topic \(name) for creation: \(errorText.cText)")
        }
        defer { rd_kafka_NewTopic_destroy(topic) }
        for (key, value) in configuration.sorted(by: { $0.key < $1.key }) {
            _ = rd_kafka_NewTopic_set_config(topic, key, value)
        }
        guard let queue = rd_kafka_queue_new(handle.pointer) else { throw KafkaFailure.error("cannot allocate a librdkafka queue") }
        defer { rd_kafka_queue_destroy(queue) }
        let options = rd_kafka_AdminOptions_new(handle.pointer, RD_KAFKA_ADMIN_OP_CREATETOPICS)
        defer { rd_kafka_AdminOptions_destroy(options) }
        _ = rd_kafka_AdminOptions_set_request_timeout(options, settings.requestTimeoutMs, &errorText, errorText.count)
        var topics: [OpaquePointer?] = [topic]
        rd_kafka_CreateTopics(handle.pointer, &topics, 1, options, queue)
        guard let event = rd_kafka_queue_poll(queue, settings.requestTimeoutMs + 1000) else {
            throw KafkaFailure.error(RD_KAFKA_RESP_ERR__TIMED_OUT, doing: "creating topic \(name)", settings: settings)
        }
        defer { rd_kafka_event_destroy(event) }
        let code = rd_kafka_event_error(event)
        if code != RD_KAFKA_RESP_ERR_NO_ERROR {
            throw KafkaFailure.error(code, doing: "creating topic \(name) with \(partitions) partitions", settings: settings,
                                     detail: rd_kafka_event_error_string(event).map { String(cString: $0) })
        }
        var count = 0
        guard let result = rd_kafka_event_CreateTopics_result(event),
              let results = rd_kafka_CreateTopics_result_topics(result, &count), count > 0 else { return }
        let topicCode = rd_kafka_topic_result_error(results[0])
        // Another client may have made it meanwhile: the caller checks its partition count.
        guard topicCode != RD_KAFKA_RESP_ERR_NO_ERROR, topicCode != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS else { return }
        throw KafkaFailure.error(topicCode, doing: "creating topic \(name) with \(partitions) partitions", settings: settings,
                                 detail: rd_kafka_topic_result_error_string(results[0]).map { String(cString: $0) })
    }
}
