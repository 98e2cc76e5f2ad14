#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import GRDB
import Logging
import Runnel
import RunnelTesting
import Synchronization

/// A `TicketOpened` or `TicketReopened` as the tickets pipeline announces it (the fields of
/// ``TicketChange``, encoded as the outbox encodes them).
struct AnnouncedChange: Encodable {
    var ticketId: String
    var service = "checkout"
    var fingerprint = "0123456789abcdef0123456789abcdef"
    var exceptionType = "java.util.concurrent.TimeoutException"
    var title = "Timed out after <n> ms"
    var reason = "new"
    var opening = 1
    var at = Date(timeIntervalSince1970: 1_767_571_200.125)
    var level = "error"
    var host = "web-1"
    var version: String? = "2.4.1"
    var message = "Timed out after 150 ms"
    var firstSeen = Date(timeIntervalSince1970: 1_767_571_200.125)
    var resolvedAt: Date?
    var resolvedInVersion: String?
    var owners = ["pay-team@example.com", "oncall@example.com"]

    var type: String { opening == 1 ? "TicketOpened" : "TicketReopened" }
    var keys: [String] { owners.map { TicketNotification.key(ticketId: ticketId, opening: opening, owner: $0) } }
}

enum TicketNotificationFixtures {
    /// Appends changes to the tickets topic of `home`'s log, keyed by service, as the relay
    /// appends the tickets pipeline's outbox rows.
    static func announce(_ changes: [AnnouncedChange], in home: RunnelHome, topic: String = "tickets") throws {
        let log = try Log.open(home.logURL)
        defer { try? log.close() }
        let records = try changes.map { change in
            LogRecord(timestamp: change.at.millisecondsSince1970, key: Array(change.service.utf8),
                      value: Array(try Outbox.makeEncoder().encode(change)), headers: [RecordHeader("type", change.type)])
        }
        _ = try log.topic(topic, creatingWith: TopicConfiguration(partitions: 2))
        try log.append(records, to: topic)
        try log.flush(force: true)
    }

    /// The lines of the notifications file, parsed.
    static func lines(of notifier: TicketNotifier) throws -> [[String: Any]] {
        try lines(at: notifier.fileURL)
    }

    static func lines(at url: URL) throws -> [[String: Any]] {
        let text = (try? String(contentsOf: url, encoding: .utf8)) ?? ""
        return try text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map { line in
            try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] ?? [:]
        }
    }

    /// One notification row's columns.
    static func row(_ key: String, in store: Store) throws -> Row? {
        try store.app.read { try Row.fetchOne($0, sql: "SELECT * FROM runnel_notifications WHERE key = ?", arguments: [key]) }
    }
}

/// What a notifier logged, for the tests that check a warning: a `Logger` whose entries are kept.
final class CapturedLog: Sendable {
    struct Entry: Sendable {
        var level: Logger.Level
        var message: String
        var metadata: [String: String]
    }

    private let kept = Mutex<[Entry]>([])

    var entries: [Entry] { kept.withLock { $0 } }

    var logger: Logger {
        Logger(label: "runnel.tests.captured") { _ in Handler(log: self) }
    }

    private struct Handler: LogHandler {
        let log: CapturedLog
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let all = metadata.merging(event.metadata ?? [:]) { $1 }
            let entry = Entry(level: event.level, message: "\(event.message)", metadata: all.mapValues { "\($0)" })
            log.kept.withLock { $0.append(entry) }
        }
    }
}

/// A small HTTP/1.1 receiver on 127.0.0.1 over POSIX sockets, for the webhook tests: it records
/// each request's `Idempotency-Key`, `Content-Type` and body, answers with what `respond`
/// says, and closes each connection after its answer. A stalling receiver instead declares a
/// body longer than the one it sends and holds the connection open, sending nothing more, until
/// the client closes it or the receiver stops.
///
/// Its port is reserved when it is made and nothing listens there until ``start()``, so a
/// webhook call before that finds the receiver down (connection refused).
final class WebhookReceiver: @unchecked Sendable {
    // @unchecked: `received`, `listener` and `stalled` are only touched under `lock`.
    struct Request: Sendable {
        var key: String?
        var contentType: String?
        var body: String
    }

    let port: UInt16
    private let lock = NSLock()
    private var received: [Request] = []
    private var listener: Int32 = -1
    /// Connections held open by a stalling receiver.
    private var stalled: Set<Int32> = []
    private let stalls: Bool
    private let respond: @Sendable (Request) -> (status: Int, body: String)

    /// - Parameters:
    ///   - stalls: Whether each answer's body stalls after its first bytes (`respond`'s body).
    ///   - respond: The status and body of the answer to a request.
    init(stalls: Bool = false, respond: @escaping @Sendable (Request) -> (status: Int, body: String) = { _ in (200, "ok") }) throws {
        self.stalls = stalls
        self.respond = respond
        let fd = try Self.bound(port: 0)
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        port = UInt16(bigEndian: address.sin_port)
        close(fd)
    }

    var url: URL { URL(string: "http://127.0.0.1:\(port)/hooks/tickets")! }

    var requests: [Request] { lock.withLock { received } }

    /// Starts listening on the reserved port.
    func start() throws {
        let fd = try Self.bound(port: port)
        guard listen(fd, 64) == 0 else { throw Self.failure("listen") }
        lock.withLock { listener = fd }
        let thread = Thread { [self] in
            while true {
                let connection = accept(fd, nil, nil)
                if connection < 0 {
                    if errno == EINTR { continue }
                    return
                }
                Thread { self.serve(connection) }.start()
            }
        }
        thread.start()
    }

    /// Stops listening, and closes the connections a stalling receiver holds: later calls are
    /// refused again. Call it when done: the listening thread holds the receiver until then.
    func stop() {
        lock.withLock {
            for connection in stalled { shutdown(connection, Int32(SHUT_RDWR)) }
            guard listener >= 0 else { return }
            shutdown(listener, Int32(SHUT_RDWR))
            close(listener)
            listener = -1
        }
    }

    private func serve(_ fd: Int32) {
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        func readMore() -> Bool {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { return false }
            bytes += buffer[..<count]
            return true
        }
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        var headerEnd: Int?
        while headerEnd == nil {
            if let range = bytes.firstRange(of: separator) { headerEnd = range.upperBound; break }
            guard readMore() else { return }
        }
        let head = String(decoding: bytes[..<headerEnd!], as: UTF8.self)
        var headers: [String: String] = [:]
        for line in head.components(separatedBy: "\r\n").dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let length = Int(headers["content-length"] ?? "0") ?? 0
        while bytes.count - headerEnd! < length {
            guard readMore() else { return }
        }
        let request = Request(key: headers["idempotency-key"], contentType: headers["content-type"],
                              body: String(decoding: bytes[headerEnd!..<(headerEnd! + length)], as: UTF8.self))
        lock.withLock { received.append(request) }
        let (status, body) = respond(request)
        let declared = body.utf8.count + (stalls ? 4_096 : 0)
        let answer = "HTTP/1.1 \(status) Answer\r\nContent-Type: text/plain\r\nContent-Length: \(declared)\r\nConnection: close\r\n\r\n\(body)"
        var out = Array(answer.utf8)
        #if canImport(Glibc)
        let flags = Int32(MSG_NOSIGNAL)
        #else
        let flags: Int32 = 0
        #endif
        _ = out.withUnsafeMutableBytes { send(fd, $0.baseAddress, $0.count, flags) }
        guard stalls else { return }
        // Nothing more is sent; waits for the client to close the connection (or stop()).
        lock.withLock { _ = stalled.insert(fd) }
        defer { lock.withLock { _ = stalled.remove(fd) } }
        while readMore() {}
    }

    private static func bound(port: UInt16) throws -> Int32 {
        #if canImport(Glibc)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { throw failure("socket") }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard result == 0 else {
            close(fd)
            throw failure("bind 127.0.0.1:\(port)")
        }
        return fd
    }

    private static func failure(_ what: String) -> RunnelError {
        RunnelError(.io, "test webhook receiver: cannot \(what): \(String(cString: strerror(errno)))")
    }
}
