import Runnel

/// One exception as an application reports it: the service that threw it, its type, its
/// message and its whole stack trace (the `Type: message` line first, as the JVM prints it).
///
/// A class, so that walking the exceptions retains one object each rather than four strings.
final class BenchException: Sendable {
    let service: String
    let type: String
    let message: String
    let stackTrace: String

    init(service: String, type: String, message: String, stackTrace: String) {
        self.service = service
        self.type = type
        self.message = message
        self.stackTrace = stackTrace
    }
}

/// Made-up but realistic JVM exceptions for `tickets`: 12 kinds over 8 services, each trace 20
/// frames deep (a few more with a cause), the application's `com.example.<service>` frames among
/// the JDK's, Spring's, Tomcat's, Hikari's and Jackson's, with code generators' decorations
/// (lambdas, `$1`, CGLIB, proxies). Line numbers differ between four "deployments" of each
/// service, and messages carry member ids, UUIDs, durations, addresses and hex identities, so
/// no two messages of a kind are alike.
///
/// Deterministic: the same seed gives the same exceptions, in the same order.
struct ExceptionGenerator {
    static let services = ["feed", "search", "messaging", "notifications", "profile", "jobs", "ads", "payments"]
    static let deployments = 4
    static let depth = 20

    /// One kind of failure: a type, how to make a message, and the innermost frames (each
    /// `class.method`); `{s}` stands for the service's package.
    struct Kind: Sendable {
        var type: String
        var frames: [String]
        /// Frames of a `Caused by:` section, if the kind wraps another exception.
        var cause: (type: String, frames: [String])?
        var message: @Sendable (inout SeededGenerator, String) -> String
    }

    static let kinds: [Kind] = [
        Kind(type: "java.util.concurrent.TimeoutException",
             frames: ["java.base/java.util.concurrent.CompletableFuture.timedGet", "java.base/java.util.concurrent.CompletableFuture.get",
                      "com.example.{s}.RankingClient.fetch", "com.example.{s}.FeedService.lambda$load$0",
                      "com.example.{s}.FeedService$$Lambda$412/0x0000000801234a58.apply", "com.example.{s}.FeedService.load"],
             message: { random, service in "Timed out after \(50 * (1 + random.below(40))) ms waiting for \(service)-ranking (request \(uuid(&random)))" }),
        Kind(type: "java.lang.NullPointerException",
             frames: ["com.example.{s}.MemberMapper.toView", "com.example.{s}.MemberMapper$1.apply", "java.base/java.util.stream.ReferencePipeline$3$1.accept",
                      "java.base/java.util.ArrayList$ArrayListSpliterator.forEachRemaining", "com.example.{s}.MemberController.list"],
             message: { _, _ in "Cannot invoke \"com.example.model.Member.getHeadline()\" because \"member\" is null" }),
        Kind(type: "java.lang.IllegalArgumentException",
             frames: ["com.example.{s}.Validation.requirePositive", "com.example.{s}.PageRequest.<init>", "com.example.{s}.MemberController.page"],
             message: { random, _ in "Invalid page size: \(random.below(5000) - 100), expected 1..500 for member \(100_000 + random.below(900_000))" }),
        Kind(type: "java.sql.SQLTransientConnectionException",
             frames: ["com.zaxxer.hikari.pool.HikariPool.createTimeoutException", "com.zaxxer.hikari.pool.HikariPool.getConnection",
                      "com.zaxxer.hikari.HikariDataSource.getConnection", "org.springframework.jdbc.datasource.DataSourceUtils.fetchConnection"],
             message: { random, _ in "HikariPool-1 - Connection is not available, request timed out after \(1000 * (1 + random.below(30)))ms (total=\(10 + random.below(10)), active=\(10 + random.below(10)), idle=0, waiting=\(random.below(50)))" }),
        Kind(type: "java.net.SocketTimeoutException",
             frames: ["java.base/sun.nio.ch.NioSocketImpl.timedRead", "java.base/sun.nio.ch.NioSocketImpl.read", "okhttp3.internal.http1.Http1ExchangeCodec.readResponseHeaders",
                      "okhttp3.internal.connection.Exchange.readResponseHeaders", "okhttp3.internal.http.CallServerInterceptor.intercept"],
             message: { random, _ in "Read timed out from 10.\(random.below(8)).\(random.below(256)).\(1 + random.below(254)):\(8000 + random.below(100)) after 2.5s" }),
        Kind(type: "com.fasterxml.jackson.core.JsonParseException",
             frames: ["com.fasterxml.jackson.core.JsonParser._constructError", "com.fasterxml.jackson.core.base.ParserMinimalBase._reportUnexpectedChar",
                      "com.fasterxml.jackson.databind.ObjectMapper.readValue", "com.example.{s}.EventDecoder.decode", "com.example.{s}.EventConsumer.lambda$poll$1",
                      "com.example.{s}.EventConsumer.poll"],
             message: { random, _ in "Unexpected character ('\(["}", "]", "x"][random.below(3)])' (code \(random.below(128)))): was expecting double-quote to start field name at [line: 1, column: \(random.below(4000))]" }),
        Kind(type: "jakarta.persistence.OptimisticLockException",
             frames: ["org.hibernate.internal.ExceptionConverterImpl.wrapStaleStateException", "org.hibernate.internal.SessionImpl.flush",
                      "com.example.{s}.AccountRepository$$SpringCGLIB$$0.save", "jdk.proxy2/jdk.proxy2.$Proxy187.save", "com.example.{s}.AccountService.update",
                      "com.example.{s}.AccountService.access$000", "com.example.{s}.AccountController.put"],
             message: { random, service in "Row was updated or deleted by another transaction: [com.example.\(service).Account#\(uuid(&random))] at \(timestamp(&random))" }),
        Kind(type: "java.lang.IllegalStateException",
             frames: ["com.example.{s}.FeedAssembler.assemble", "com.example.{s}.FeedAssembler.assembleAll", "com.example.{s}.FeedController.get"],
             cause: ("java.io.IOException", ["java.base/sun.nio.ch.SocketDispatcher.read0", "java.base/sun.nio.ch.SocketDispatcher.read",
                                            "com.example.{s}.StoreClient.read", "com.example.{s}.FeedAssembler.assemble"]),
             message: { random, _ in "Feed unavailable for member \(100_000 + random.below(900_000)) in region eu-west-\(1 + random.below(3))" }),
        Kind(type: "java.util.ConcurrentModificationException",
             frames: ["java.base/java.util.ArrayList$Itr.checkForComodification", "java.base/java.util.ArrayList$Itr.next",
                      "com.example.{s}.SessionRegistry.expire", "com.example.{s}.SessionRegistry$2.run", "java.base/java.util.concurrent.Executors$RunnableAdapter.call"],
             message: { _, _ in "" }),
        Kind(type: "java.lang.StackOverflowError",
             frames: ["com.example.{s}.CommentTree.render", "java.base/java.util.ArrayList.forEach", "com.example.{s}.CommentTree.render",
                      "java.base/java.util.ArrayList.forEach", "com.example.{s}.CommentTree.render", "java.base/java.util.ArrayList.forEach",
                      "com.example.{s}.CommentTree.render", "java.base/java.util.ArrayList.forEach", "com.example.{s}.CommentTree.render"],
             message: { _, _ in "" }),
        Kind(type: "org.springframework.web.client.HttpClientErrorException$NotFound",
             frames: ["org.springframework.web.client.HttpClientErrorException.create", "org.springframework.web.client.DefaultResponseErrorHandler.handleError",
                      "org.springframework.web.client.RestTemplate.doExecute", "com.example.{s}.ProfileClient.get", "com.example.{s}.ProfileEnricher.enrich"],
             message: { random, _ in "404 Not Found on GET https://profile.internal.example.com/v1/members/\(100_000 + random.below(900_000)): \"{\"error\":\"member not found\"}\"" }),
        Kind(type: "java.util.concurrent.RejectedExecutionException",
             frames: ["java.base/java.util.concurrent.ThreadPoolExecutor$AbortPolicy.rejectedExecution", "java.base/java.util.concurrent.ThreadPoolExecutor.reject",
                      "java.base/java.util.concurrent.ThreadPoolExecutor.execute", "java.base/java.util.concurrent.AbstractExecutorService.submit"],
             message: { random, _ in "Task java.util.concurrent.FutureTask@\(hex(&random)) rejected from java.util.concurrent.ThreadPoolExecutor@\(hex(&random))[Running, pool size = 16, active threads = 16, queued tasks = \(random.below(10_000)), completed tasks = \(random.below(10_000_000))]" }),
    ]

    /// The outer frames every request shares, innermost first: Spring MVC on Tomcat.
    static let requestFrames = [
        "java.base/jdk.internal.reflect.DirectMethodHandleAccessor.invoke", "java.base/java.lang.reflect.Method.invoke",
        "org.springframework.web.method.support.InvocableHandlerMethod.doInvoke",
        "org.springframework.web.servlet.mvc.method.annotation.ServletInvocableHandlerMethod.invokeAndHandle",
        "org.springframework.web.servlet.DispatcherServlet.doDispatch", "org.springframework.web.servlet.FrameworkServlet.processRequest",
        "jakarta.servlet.http.HttpServlet.service", "org.apache.catalina.core.ApplicationFilterChain.internalDoFilter",
        "org.apache.catalina.core.ApplicationFilterChain.doFilter", "org.apache.catalina.core.StandardWrapperValve.invoke",
        "org.apache.catalina.connector.CoyoteAdapter.service", "org.apache.coyote.http11.Http11Processor.service",
        "org.apache.tomcat.util.net.NioEndpoint$SocketProcessor.doRun", "java.base/java.util.concurrent.ThreadPoolExecutor.runWorker",
        "java.base/java.util.concurrent.ThreadPoolExecutor$Worker.run", "org.apache.tomcat.util.threads.TaskThread$WrappingRunnable.run",
        "java.base/java.lang.Thread.run",
    ]

    /// Each (service, kind)'s trace after its first line, once per deployment.
    private let bodies: [[[String]]]
    private var random: SeededGenerator

    init(seed: UInt64 = 0x71C4_E75E_ED00) {
        var random = SeededGenerator(seed: seed ^ 0xB0D1E5)
        bodies = Self.services.map { service in
            Self.kinds.map { kind in
                (0..<Self.deployments).map { _ in Self.body(of: kind, service: service, random: &random) }
            }
        }
        self.random = SeededGenerator(seed: seed)
    }

    /// The next exception.
    mutating func next() -> BenchException {
        let service = random.below(Self.services.count)
        let kindIndex = random.below(Self.kinds.count)
        let kind = Self.kinds[kindIndex]
        let serviceName = Self.services[service]
        let message = kind.message(&random, serviceName)
        let header = message.isEmpty ? kind.type : "\(kind.type): \(message)"
        let body = bodies[service][kindIndex][random.below(Self.deployments)]
        return BenchException(service: serviceName, type: kind.type, message: message, stackTrace: header + body)
    }

    /// `\n\tat frame(File.java:line)` lines for one deployment: the kind's frames, the request's
    /// frames up to 20 in all, and a cause's section.
    private static func body(of kind: Kind, service: String, random: inout SeededGenerator) -> String {
        var text = ""
        func append(_ frame: String) {
            let name = frame.replacingOccurrences(of: "{s}", with: service)
            let className = name.split(separator: "/").last.map(String.init) ?? name
            let file = className.split(separator: ".").dropLast().last.map { $0.split(separator: "$").first.map(String.init) ?? String($0) } ?? "Unknown"
            // Library lines are the same everywhere; the application's move between deployments.
            let base = 20 + name.utf8.count * 37 % 900
            let line = name.hasPrefix("com.example.") ? base + random.below(12) : base
            text += "\n\tat \(name)(\(file).java:\(line))"
        }
        let frames = kind.frames + requestFrames.prefix(max(0, depth - kind.frames.count))
        frames.prefix(depth).forEach(append)
        if let cause = kind.cause {
            text += "\nCaused by: \(cause.type): Connection reset by peer"
            cause.frames.forEach(append)
            text += "\n\t... \(depth - 3) more"
        }
        return text
    }

    private static func uuid(_ random: inout SeededGenerator) -> String {
        let a = random.next()
        let b = random.next()
        func hex(_ value: UInt64, _ digits: Int) -> String {
            let text = String(value, radix: 16)
            return String(repeating: "0", count: max(0, digits - text.count)) + text.suffix(digits)
        }
        return "\(hex(a >> 32, 8))-\(hex((a >> 16) & 0xFFFF, 4))-4\(hex(a & 0xFFF, 3))-a\(hex(b >> 52, 3))-\(hex(b & 0xFFFF_FFFF_FFFF, 12))"
    }

    private static func hex(_ random: inout SeededGenerator) -> String {
        String(random.next() & 0xFFFF_FFFF | 0x1000_0000, radix: 16)
    }

    private static func timestamp(_ random: inout SeededGenerator) -> String {
        let hour = random.below(24)
        let minute = random.below(60)
        let second = random.below(60)
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "2026-01-0\(1 + random.below(9))T\(two(hour)):\(two(minute)):\(two(second)).\(random.below(900) + 100)Z"
    }
}
