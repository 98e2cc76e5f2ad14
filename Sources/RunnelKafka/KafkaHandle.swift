import CRdKafka
import Foundation
import Logging
import Runnel

extension Array where Element == CChar {
    /// The C string in this buffer, up to its terminating zero.
    var cText: String {
        String(decoding: prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

extension KafkaSettings {
    var requestTimeoutMs: Int32 { Int32(clamping: requestTimeout.milliseconds) }
}

extension Duration {
    var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}

/// A librdkafka client handle, destroyed with its owner.
final class KafkaHandle: @unchecked Sendable {
    // @unchecked: librdkafka handles are thread-safe; Runnel's owners use each from one thread.
    let pointer: OpaquePointer
    let settings: KafkaSettings

    /// Makes a client of `type` with `defaults`, then the settings' properties (which may change
    /// them), then `own` (which nothing changes: what Runnel's guarantees rest on).
    /// - Parameter prepare: Sets callbacks and their opaque on the configuration before the
    ///   handle is made.
    init(_ type: rd_kafka_type_t, settings: KafkaSettings, own: [String: String], defaults: [String: String] = [:],
         prepare: (OpaquePointer) -> Void = { _ in }) throws {
        try settings.validate()
        self.settings = settings
        guard let configuration = rd_kafka_conf_new() else { throw KafkaFailure.error("cannot allocate a librdkafka configuration") }
        var properties = defaults.merging(settings.properties) { $1 }
        properties["bootstrap.servers"] = settings.bootstrapServers
        properties["client.id"] = properties["client.id"] ?? "runnel"
        for (key, value) in own { properties[key] = value }
        var errorText = [CChar](repeating: 0, count: 512)
        for (key, value) in properties.sorted(by: { $0.key < $1.key }) {
            guard rd_kafka_conf_set(configuration, key, value, &errorText, errorText.count) == RD_KAFKA_CONF_OK else {
                rd_kafka_conf_destroy(configuration)
                throw RunnelError(.invalidArgument, "librdkafka refused the property \(key)=\(value): \(errorText.cText)",
                                  hint: "See librdkafka's CONFIGURATION.md for the properties and their values")
            }
        }
        rd_kafka_conf_set_log_cb(configuration) { _, level, facility, message in
            KafkaHandle.log(level: level, facility: facility, message: message)
        }
        prepare(configuration)
        // rd_kafka_new takes the configuration, even when it fails.
        guard let handle = rd_kafka_new(type, configuration, &errorText, errorText.count) else {
            throw RunnelError(.kafka, "librdkafka cannot make a client for \(settings.bootstrapServers): \(errorText.cText)")
        }
        pointer = handle
    }

    deinit { rd_kafka_destroy(pointer) }

    /// librdkafka's log lines, into swift-log: its errors (a broker refusing connections) are
    /// warnings, as the client retries them; the rest is debug.
    private static func log(level: Int32, facility: UnsafePointer<CChar>?, message: UnsafePointer<CChar>?) {
        let logger = Logger(label: "runnel.kafka")
        let text = message.map { String(cString: $0) } ?? ""
        let metadata: Logger.Metadata = ["kafka.facility": "\(facility.map { String(cString: $0) } ?? "")"]
        switch level {
        case ...3: logger.warning("\(text)", metadata: metadata)
        case 4...5: logger.info("\(text)", metadata: metadata)
        default: logger.debug("\(text)", metadata: metadata)
        }
    }

    /// The cluster's id (nil when the cluster does not tell it within the request timeout).
    func clusterID() -> String? {
        guard let id = rd_kafka_clusterid(pointer, settings.requestTimeoutMs) else { return nil }
        defer { rd_kafka_mem_free(pointer, id) }
        return String(cString: id)
    }

    /// A topic's partition count, or nil when the cluster has no such topic.
    func partitionCount(of topic: String) throws -> Int? {
        guard let handle = rd_kafka_topic_new(pointer, topic, nil) else {
            throw KafkaFailure.error(rd_kafka_last_error(), doing: "opening topic \(topic)", settings: settings)
        }
        defer { rd_kafka_topic_destroy(handle) }
        var metadata: UnsafePointer<rd_kafka_metadata>?
        let code = rd_kafka_metadata(pointer, 0, handle, &metadata, settings.requestTimeoutMs)
        guard code == RD_KAFKA_RESP_ERR_NO_ERROR, let metadata else {
            throw KafkaFailure.error(code, doing: "reading the metadata of topic \(topic)", settings: settings)
        }
        defer { rd_kafka_metadata_destroy(metadata) }
        guard metadata.pointee.topic_cnt > 0, let found = metadata.pointee.topics else { return nil }
        switch found.pointee.err {
        case RD_KAFKA_RESP_ERR_NO_ERROR: return Int(found.pointee.partition_cnt)
        case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART: return nil
        case let code: throw KafkaFailure.error(code, doing: "reading the metadata of topic \(topic)", settings: settings)
        }
    }
}

/// librdkafka's error codes as ``RunnelError``s that say what to do.
enum KafkaFailure {
    static func error(_ message: String) -> RunnelError { RunnelError(.kafka, message) }

    static func error(_ code: rd_kafka_resp_err_t, doing what: String, settings: KafkaSettings, detail: String? = nil) -> RunnelError {
        let name = String(cString: rd_kafka_err2name(code))
        let text = detail ?? String(cString: rd_kafka_err2str(code))
        let message = "Kafka at \(settings.bootstrapServers) failed \(what): \(text) (\(name))"
        switch code {
        case RD_KAFKA_RESP_ERR__TRANSPORT, RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN, RD_KAFKA_RESP_ERR__TIMED_OUT,
             RD_KAFKA_RESP_ERR__MSG_TIMED_OUT, RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT, RD_KAFKA_RESP_ERR__RESOLVE:
            return RunnelError(.kafka, message, hint: "Check that the brokers run and that --bootstrap-servers names them; nothing was lost, run the command again once they answer")
        // Refusals no retry mends: a follower stops on them, naming what to change.
        case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED, RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED,
             RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED, RD_KAFKA_RESP_ERR__AUTHENTICATION:
            return RunnelError(.kafkaRefused, message, hint: "Give Runnel's principal the rights it needs (describe, create, write and read on its topics, idempotent write on the cluster), or pass the right credentials with --kafka-property; nothing was lost")
        case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE, RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE, RD_KAFKA_RESP_ERR_INVALID_RECORD,
             RD_KAFKA_RESP_ERR_INVALID_TIMESTAMP:
            return RunnelError(.kafkaRefused, message, hint: "Raise the topic's max.message.bytes on the cluster above the topic's maximum record size in Runnel (plus 64 KiB for the batch's framing), or lower that size so the relay moves larger rows to runnel_outbox_dead_letters; nothing was lost, the rows wait in the outbox")
        case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
            return RunnelError(.kafka, message, hint: "Create the topic, or check its name")
        case RD_KAFKA_RESP_ERR__FATAL:
            return RunnelError(.kafka, message, hint: "The producer cannot go on after a fatal error; run the command again, which starts a new one and learns what the cluster holds")
        default:
            return RunnelError(.kafka, message)
        }
    }
}
