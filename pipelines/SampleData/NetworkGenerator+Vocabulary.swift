import Runnel

// The words the generator draws from. Changing any list changes every generated data set, and so
// `sample-data/network.jsonl`: regenerate it (`runnel sample generate --output sample-data/network.jsonl`).
extension NetworkGenerator {
    static let firstNames = ["Ada", "Bola", "Chen", "Dana", "Emeka", "Farah", "Goran", "Hana", "Ivan", "Jia",
                             "Kofi", "Lena", "Mateo", "Nia", "Omar", "Priya", "Quinn", "Rosa", "Sven", "Tariq"]
    static let lastNames = ["Abara", "Berg", "Costa", "Dubois", "Eze", "Fischer", "Garcia", "Haddad", "Ito", "Jensen",
                            "Khan", "Larsen", "Moreau", "Nakamura", "Okafor", "Petrov", "Rossi", "Silva", "Tanaka", "Weber"]
    static let industries = ["Software", "Finance", "Healthcare", "Education", "Retail", "Manufacturing",
                             "Media", "Logistics", "Energy", "Government"]
    static let titles = ["Software Engineer", "Data Scientist", "Product Manager", "Designer", "Recruiter",
                         "Site Reliability Engineer", "Sales Director", "Analyst", "Nurse", "Teacher"]
    static let companies = ["Acme", "Globex", "Initech", "Umbrella", "Hooli", "Vandelay", "Stark Industries", "Wonka"]
    static let locations = ["Dublin", "Lagos", "Toronto", "Berlin", "Bangalore", "Sao Paulo", "Tokyo", "Austin"]
    static let events = ["data meetup", "SRE conference", "career fair", "alumni dinner"]
    static let pages = ["/feed", "/jobs", "/messaging", "/notifications", "/mynetwork", "/search?q=swift", "/search?q=kafka",
                        "/in/profile", "/company/acme", "/learning"]
    static let userAgents = ["Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0", "Mozilla/5.0 (Macintosh) Safari/17.4",
                             "Mozilla/5.0 (Windows NT 10.0) Chrome/126.0", "NetworkApp/9.2 (iPhone; iOS 18)",
                             "NetworkApp/9.1 (Android 15)"]

    static func activityKind(_ roll: Int) -> String {
        switch roll {
        case ..<60: "page_view"
        case ..<85: "click"
        case ..<95: "reaction"
        default: "post"
        }
    }

    static func dwell(_ kind: String, _ random: inout SeededGenerator) -> Int64 {
        switch kind {
        case "page_view": Int64(1_000 + random.below(59_000))
        case "post": Int64(20_000 + random.below(100_000))
        default: Int64(random.below(2_000))
        }
    }

    struct Service {
        var name: String
        var team: String
        var hosts: [String]
        /// The versions the service ships, oldest first; the first runs from the start.
        var releases: [Release]

        /// The version running on `host` in `hour`: the latest release shipped by then. The
        /// service's last host is upgraded an hour after the others, a staged rollout.
        func version(hour: Int, host: String, of hours: Int) -> String {
            let lag = hosts.count > 1 && host == hosts.last ? 1 : 0
            return releases.last { $0.firstHour(hours) + lag <= hour }?.version ?? releases[0].version
        }
    }

    struct Release {
        /// When a release ships: a fraction of the span, or a number of hours before its end.
        enum Shipped {
            case after(Double)
            case hoursBeforeEnd(Int)
        }

        var version: String
        var shipped: Shipped

        func firstHour(_ hours: Int) -> Int {
            switch shipped {
            case .after(let fraction): Int(Double(hours) * fraction)
            case .hoursBeforeEnd(let count): hours - count
            }
        }
    }

    static let services = [
        // The feed's fix for the ranking timeout ships two hours before the end (see `addExceptions`).
        Service(name: "feed-service", team: "feed-infra", hosts: ["app-01", "app-02"],
                releases: [Release(version: "3.2.0", shipped: .after(0)), Release(version: feedFixVersion, shipped: .hoursBeforeEnd(2))]),
        Service(name: "search-service", team: "search-relevance", hosts: ["app-02", "app-03"],
                releases: [Release(version: "1.8.3", shipped: .after(0)), Release(version: "1.9.0", shipped: .after(0.5))]),
        Service(name: "messaging-service", team: "messaging", hosts: ["app-03", "app-04"],
                releases: [Release(version: "5.0.2", shipped: .after(0))]),
        Service(name: "profile-service", team: "identity", hosts: ["app-04", "app-05"],
                releases: [Release(version: "2.4.0", shipped: .after(0)), Release(version: "2.5.0", shipped: .after(0.34))]),
        Service(name: "jobs-service", team: "growth", hosts: ["app-05", "app-06"],
                releases: [Release(version: "7.1.0", shipped: .after(0))]),
        Service(name: "notifications-service", team: "growth", hosts: ["app-06", "app-01"],
                releases: [Release(version: "1.0.4", shipped: .after(0)), Release(version: "1.1.0", shipped: .after(0.67))]),
    ]

    /// The feed release the ranking timeout is resolved in.
    static let feedFixVersion = "3.2.1"

    struct ExceptionKind {
        var service: Int
        var type: String
        var level: String
        var perHour: Int
        /// The fraction of the span after which this kind starts appearing (0: from the start).
        var startsAt: Double
        var messageTemplate: String
        var frames: [String]

        func firstHour(_ hours: Int) -> Int { Int(Double(hours) * startsAt) }

        /// The template with `{n}` replaced by numbers, `{uuid}` by a UUID and `{hex}` by a
        /// 16-digit request id, as real messages carry.
        func message(_ random: inout SeededGenerator) -> String {
            var text = messageTemplate
            while let range = text.range(of: "{n}") {
                text.replaceSubrange(range, with: String(1 + random.below(99_999)))
            }
            while let range = text.range(of: "{hex}") {
                // A letter then a digit first, so it always reads as an id, never as a word or a number.
                let digits = String(random.pick(Array("abcdef"))) + String(random.below(10))
                    + (0..<14).map { _ in String(random.below(16), radix: 16) }.joined()
                text.replaceSubrange(range, with: digits)
            }
            while let range = text.range(of: "{uuid}") {
                let hex = (0..<4).map { _ in String(random.next() & 0xFFFF_FFFF, radix: 16) }.map { String(repeating: "0", count: 8 - $0.count) + $0 }.joined()
                let chars = Array(hex)
                let uuid = [0..<8, 8..<12, 12..<16, 16..<20, 20..<32].map { String(chars[$0]) }.joined(separator: "-")
                text.replaceSubrange(range, with: uuid)
            }
            return text
        }

        /// A stack trace whose in-app frames carry line numbers that vary between deploys.
        func stack(message: String, _ random: inout SeededGenerator) -> String {
            var lines = ["\(type): \(message)"]
            for frame in frames {
                let line = SampleCatalog.inAppPrefixes.contains(where: frame.hasPrefix) ? "\(frame.split(separator: ".").dropLast().last ?? "Main").java:\(20 + random.below(400))" : "Unknown Source"
                lines.append("\tat \(frame)(\(line))")
            }
            return lines.joined(separator: "\n")
        }
    }

    static let exceptionKinds = [
        ExceptionKind(service: 0, type: "java.util.concurrent.TimeoutException", level: "error", perHour: 4, startsAt: 0,
                      messageTemplate: "Timed out after {n} ms waiting for ranking response",
                      frames: ["com.example.feed.RankingClient.fetch", "com.example.feed.FeedService.render", "io.netty.channel.DefaultChannelPipeline.fireChannelRead"]),
        ExceptionKind(service: 1, type: "java.lang.NullPointerException", level: "error", perHour: 3, startsAt: 0,
                      messageTemplate: "Cannot invoke \"QueryContext.locale()\" because \"ctx\" is null (query {n})",
                      frames: ["com.example.search.QueryParser.parse", "com.example.search.SearchService.search", "java.util.concurrent.ThreadPoolExecutor.runWorker"]),
        ExceptionKind(service: 2, type: "java.io.IOException", level: "warning", perHour: 3, startsAt: 0,
                      messageTemplate: "Connection reset by peer while sending message {uuid}",
                      frames: ["com.example.messaging.Delivery.send", "com.example.messaging.Outbox.flush", "java.lang.Thread.run"]),
        ExceptionKind(service: 4, type: "java.lang.IllegalStateException", level: "error", perHour: 2, startsAt: 0,
                      messageTemplate: "Job posting {n} is closed",
                      frames: ["com.example.jobs.ApplyHandler.apply", "com.example.jobs.JobsService.handle", "java.lang.Thread.run"]),
        ExceptionKind(service: 3, type: "com.example.profile.SerializationException", level: "error", perHour: 5, startsAt: 0.34,
                      messageTemplate: "Unexpected token at offset {n} in profile {n}",
                      frames: ["com.example.profile.ProfileCodec.decode", "com.example.profile.ProfileService.load", "java.lang.Thread.run"]),
        ExceptionKind(service: 5, type: "java.lang.OutOfMemoryError", level: "fatal", perHour: 1, startsAt: 0.67,
                      messageTemplate: "Java heap space",
                      frames: ["com.example.notifications.DigestBuilder.build", "com.example.notifications.Scheduler.tick", "java.lang.Thread.run"]),
        // No in-app frame: the gRPC library throws it, so the message's template is what groups
        // it, and only ids, UUIDs and numbers vary in the message.
        ExceptionKind(service: 4, type: "io.grpc.StatusRuntimeException", level: "warning", perHour: 2, startsAt: 0,
                      messageTemplate: "DEADLINE_EXCEEDED: recommendations call {uuid} for member {n} gave up after {n}ms (request {hex})",
                      frames: ["io.grpc.stub.ClientCalls.toStatusRuntimeException", "io.grpc.stub.ClientCalls.getUnchecked",
                               "io.grpc.stub.ClientCalls.blockingUnaryCall", "java.lang.Thread.run"]),
    ]
}
