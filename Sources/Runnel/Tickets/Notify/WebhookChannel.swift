import AsyncHTTPClient
import Foundation

/// The webhook channel: POSTs a notification's JSON to a URL with its key as
/// `Idempotency-Key`, and says what the answer means for the notification.
///
/// 2xx is delivered; 408, 429, 5xx, a refused connection and a timeout are worth another try;
/// any other status is a refusal that retrying will not change, kept with the status and the
/// start of the body so it is visible.
///
/// The timeout bounds the whole call, the answer's body included: the client's deadline ends
/// when the head arrives, and a receiver that then stalls its body would otherwise hold the pass
/// (and a follower's shutdown) before its commit. A 2xx body is not read at all: the status is
/// the answer.
struct WebhookChannel: Sendable {
    let url: URL
    /// How long a call may take, from connecting to the end of what is read of the answer.
    let timeout: Duration
    /// How much of a refusal's body is kept in `last_error`.
    static let bodyPrefix = 300

    /// One client for the process (it is never shut down, like `HTTPClient.shared`).
    ///
    /// A receiver that is down fails the call at once, instead of the client retrying the
    /// connection until the call's deadline: the notifier retries it with its own backoff and
    /// counts the attempt. A redirect is an answer the receiver should not give a webhook, and
    /// is reported, not followed.
    private static let client: HTTPClient = {
        var configuration = HTTPClient.Configuration.singletonConfiguration
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.timeout.connect = .seconds(5)
        configuration.redirectConfiguration = .disallow
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()

    func send(key: String, payload: String) async -> NotificationLedger.WebhookOutcome {
        var request = HTTPClientRequest(url: url.absoluteString)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Idempotency-Key", value: key)
        request.body = .bytes(Array(payload.utf8))
        let deadline = ContinuousClock.now + timeout
        do {
            let response = try await Self.client.execute(request, timeout: .milliseconds(Int64(timeout.wholeMilliseconds)))
            let status = Int(response.status.code)
            // Dropping the body unread ends the request (closing the connection if the body is
            // still coming), so a stalled 2xx body costs nothing.
            if (200..<300).contains(status) { return .delivered(status: status) }
            let body = await Self.start(of: response.body, until: deadline)
            switch status {
            case 408, 429, 500..<600:
                return .retry("HTTP \(status) from \(url.absoluteString)" + (body.isEmpty ? "" : ": \(body)"))
            default:
                return .rejected("HTTP \(status) from \(url.absoluteString)" + (body.isEmpty ? "" : ": \(body)"))
            }
        } catch {
            return .retry("no answer from \(url.absoluteString): \(error)")
        }
    }

    /// The first ``bodyPrefix`` bytes of a body, as text on one line: what of them came by the
    /// deadline.
    private static func start(of body: HTTPClientResponse.Body, until deadline: ContinuousClock.Instant) async -> String {
        let bytes = await withTaskGroup(of: [UInt8]?.self) { group in
            group.addTask { await prefix(of: body) }
            group.addTask {
                try? await Task.sleep(until: deadline, clock: .continuous)
                return nil
            }
            // The first to end cancels the other: the sleep, or the read, which then returns
            // what it had read.
            var read: [UInt8] = []
            while let result = await group.next() {
                if let result { read = result }
                group.cancelAll()
            }
            return read
        }
        return String(decoding: bytes, as: UTF8.self).replacingOccurrences(of: "\n", with: " ").trimmingCharacters(in: .whitespaces)
    }

    /// The first ``bodyPrefix`` bytes of a body, or those read before the task was cancelled.
    private static func prefix(of body: HTTPClientResponse.Body) async -> [UInt8] {
        var bytes: [UInt8] = []
        do {
            for try await chunk in body {
                bytes += chunk.readableBytesView.prefix(bodyPrefix - bytes.count)
                if bytes.count >= bodyPrefix { break }
            }
        } catch {
            // The status is what decides; a body cut short only shortens the message.
        }
        return bytes
    }
}
