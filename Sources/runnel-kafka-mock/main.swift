// A librdkafka mock cluster in a process of its own, for Runnel's Kafka tests and benchmarks.
//
//     runnel-kafka-mock [--brokers N]
//
// Prints `bootstrap.servers=HOST:PORT,…` as its first line, then answers each command read from
// standard input with one line, `ok` or `error: …`. It ends at the end of its input (so a test
// that dies takes its cluster with it) or when killed. Commands:
//
//     topic NAME PARTITIONS          create a topic (the mock has no CreateTopics API)
//     errors API COUNT CODE          the next COUNT requests of API (produce, fetch, metadata,
//                                    list-offsets, init-producer-id, or a number) fail with
//                                    Kafka error CODE (a number, e.g. 6 NOT_LEADER_OR_FOLLOWER)
//     down BROKER | up BROKER        take a broker's listener down or bring it back
//     rtt BROKER MS                  delay a broker's responses
//     leader TOPIC PARTITION BROKER  move a partition's leadership
import CRdKafka
import Foundation

/// One line on standard output, written at once (a test reads it through a pipe).
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

/// A C string in a buffer, up to its terminating zero.
func text(_ buffer: [CChar]) -> String {
    String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

let brokers: Int32 = {
    let arguments = Array(CommandLine.arguments.dropFirst())
    if arguments.isEmpty { return 3 }
    if arguments.count == 2, arguments[0] == "--brokers", let value = Int32(arguments[1]), value > 0 { return value }
    FileHandle.standardError.write(Data("usage: runnel-kafka-mock [--brokers N]\n".utf8))
    exit(64)
}()

// The cluster lives in a client handle's threads; the handle itself is never used otherwise.
var errorText = [CChar](repeating: 0, count: 512)
let configuration = rd_kafka_conf_new()
rd_kafka_conf_set(configuration, "log_level", "3", &errorText, errorText.count)
guard let handle = rd_kafka_new(RD_KAFKA_PRODUCER, configuration, &errorText, errorText.count) else {
    FileHandle.standardError.write(Data("error: cannot make a librdkafka handle: \(text(errorText))\n".utf8))
    exit(1)
}
guard let cluster = rd_kafka_mock_cluster_new(handle, brokers) else {
    FileHandle.standardError.write(Data("error: librdkafka cannot start a mock cluster\n".utf8))
    exit(1)
}
say("bootstrap.servers=\(String(cString: rd_kafka_mock_cluster_bootstraps(cluster)))")

let apiKeys: [String: Int16] = ["produce": 0, "fetch": 1, "list-offsets": 2, "metadata": 3, "init-producer-id": 22]

func answer(_ words: [String]) -> String {
    func number(_ index: Int) -> Int32? { index < words.count ? Int32(words[index]) : nil }
    func result(_ code: rd_kafka_resp_err_t) -> String {
        code == RD_KAFKA_RESP_ERR_NO_ERROR ? "ok" : "error: \(String(cString: rd_kafka_err2str(code)))"
    }
    switch words.first {
    case "topic":
        guard words.count == 3, let partitions = number(2), partitions > 0 else { return "error: topic NAME PARTITIONS" }
        return result(rd_kafka_mock_topic_create(cluster, words[1], partitions, min(brokers, 3)))
    case "errors":
        guard words.count == 4, let api = apiKeys[words[1]] ?? Int16(words[1]), let count = number(2), count >= 0,
              let code = number(3) else { return "error: errors API COUNT CODE" }
        var codes = [rd_kafka_resp_err_t](repeating: rd_kafka_resp_err_t(rawValue: code), count: Int(count))
        rd_kafka_mock_push_request_errors_array(cluster, api, codes.count, &codes)
        return "ok"
    case "down", "up":
        guard words.count == 2, let broker = number(1) else { return "error: \(words[0]) BROKER" }
        return result(words[0] == "down" ? rd_kafka_mock_broker_set_down(cluster, broker) : rd_kafka_mock_broker_set_up(cluster, broker))
    case "rtt":
        guard words.count == 3, let broker = number(1), let milliseconds = number(2) else { return "error: rtt BROKER MS" }
        return result(rd_kafka_mock_broker_set_rtt(cluster, broker, milliseconds))
    case "leader":
        guard words.count == 4, let partition = number(2), let broker = number(3) else { return "error: leader TOPIC PARTITION BROKER" }
        return result(rd_kafka_mock_partition_set_leader(cluster, words[1], partition, broker))
    case nil:
        return "ok"
    default:
        return "error: unknown command \(words[0]) (topic, errors, down, up, rtt, leader)"
    }
}

while let line = readLine() {
    say(answer(line.split(separator: " ").map(String.init)))
}
rd_kafka_mock_cluster_destroy(cluster)
rd_kafka_destroy(handle)
