import Runnel
import Testing

/// How single frames are normalised: code generators' decorations, modules and locations go;
/// frames that only some JVMs or compilers print are dropped.
@Suite struct FingerprintFrameTests {
    /// One row: a frame line as printed, and the frame it becomes (nil: dropped).
    struct Case: Sendable, CustomTestStringConvertible {
        var line: String
        var frame: String?

        init(_ line: String, _ frame: String?) {
            self.line = line
            self.frame = frame
        }

        var testDescription: String { line }
    }

    static let cases: [Case] = [
        Case("\tat com.example.feed.RankingClient.fetch(RankingClient.java:123)", "com.example.feed.RankingClient.fetch"),
        Case("\tat com.example.feed.RankingClient.fetch(Unknown Source)", "com.example.feed.RankingClient.fetch"),
        Case("\tat com.example.feed.RankingClient.fetch(RankingClient.java:123) ~[feed.jar:1.4.2]", "com.example.feed.RankingClient.fetch"),
        Case("at app//com.example.feed.RankingClient.fetch(RankingClient.java:9)", "com.example.feed.RankingClient.fetch"),
        Case("at java.base/java.lang.Thread.run(Thread.java:829)", "java.lang.Thread.run"),
        // Anonymous classes and lambdas.
        Case("\tat com.example.feed.FeedService$1.run(FeedService.java:80)", "com.example.feed.FeedService.run"),
        Case("\tat com.example.feed.FeedService$Loader$2.call(FeedService.java:80)", "com.example.feed.FeedService$Loader.call"),
        Case("\tat com.example.feed.FeedService.lambda$load$0(FeedService.java:57)", "com.example.feed.FeedService.load"),
        Case("\tat com.example.feed.FeedService.lambda$static$3(FeedService.java:12)", "com.example.feed.FeedService.static"),
        Case("\tat com.example.feed.FeedService$$Lambda$14/0x0000000800c3b440.apply(Unknown Source)", nil),
        Case("\tat com.example.feed.FeedService$$Lambda/0x0000000800c3b440.apply(Unknown Source)", nil),
        Case("\tat com.example.feed.FeedService$$Lambda$14/1639622804.apply(Unknown Source)", nil),
        Case("\tat com.example.feed.FeedService.access$000(FeedService.java:20)", nil),
        // Generated subclasses and proxies.
        Case("\tat com.example.feed.FeedRepository$$EnhancerByCGLIB$$5f1b2c3d.save(<generated>)", "com.example.feed.FeedRepository.save"),
        Case("\tat com.example.feed.FeedRepository$$EnhancerBySpringCGLIB$$a1b2c3.save(<generated>)", "com.example.feed.FeedRepository.save"),
        Case("\tat com.example.feed.FeedRepository$$SpringCGLIB$$0.save(<generated>)", "com.example.feed.FeedRepository.save"),
        Case("\tat jdk.proxy2/jdk.proxy2.$Proxy12.fetch(Unknown Source)", "jdk.proxy2.$Proxy.fetch"),
        Case("\tat com.sun.proxy.$Proxy7.fetch(Unknown Source)", "com.sun.proxy.$Proxy.fetch"),
        Case("\tat java.base/java.lang.invoke.LambdaForm$MH/0x0000000800c1c000.invoke(LambdaForm$MH)", "java.lang.invoke.LambdaForm$MH.invoke"),
        // Kotlin and Scala.
        Case("\tat com.example.feed.FeedService.load$default(FeedService.kt:30)", "com.example.feed.FeedService.load"),
        Case("\tat com.example.feed.FeedService.$anonfun$load$1(FeedService.scala:30)", "com.example.feed.FeedService.load"),
        // Constructors keep their names.
        Case("\tat com.example.feed.FeedService.<init>(FeedService.java:18)", "com.example.feed.FeedService.<init>"),
        Case("\tat com.example.feed.FeedService.<clinit>(FeedService.java:11)", "com.example.feed.FeedService.<clinit>"),
        // Generic, Swift and JavaScript lines.
        Case("at FeedKit.RankingClient.fetch (RankingClient.swift:123)", "FeedKit.RankingClient.fetch"),
        Case("    at async Handler.run (/app/handler.js:3:7)", "Handler.run"),
        Case("at handler:12:7", "handler"),
        Case("  File \"app/feed/ranking.py\", line 3, in handler", "app/feed/ranking.handler"),
        // Not frames.
        Case("\t... 12 more", nil),
        Case("java.lang.IllegalStateException: at 12:00 the feed was empty", nil),
    ]

    @Test(arguments: cases)
    func frameLinesNormalise(_ row: Case) {
        let fingerprint = Fingerprinter(inAppPrefixes: []).fingerprint(type: "E", message: "", stackTrace: row.line)
        #expect(fingerprint.frames == (row.frame.map { [$0] } ?? []))
    }

    @Test func droppedSyntheticFramesLeaveTheSameFingerprintAsAHiddenOne() {
        let fingerprinter = Fingerprinter(inAppPrefixes: ["com.example."])
        let jdk8 = """
            \tat com.example.feed.FeedService.lambda$load$0(FeedService.java:57)
            \tat com.example.feed.FeedService$$Lambda$14/1639622804.apply(Unknown Source)
            \tat com.example.feed.FeedService.access$000(FeedService.java:20)
            \tat com.example.feed.FeedController.get(FeedController.java:40)
            """
        let jdk17 = """
            \tat com.example.feed.FeedService.lambda$load$0(FeedService.java:59)
            \tat com.example.feed.FeedController.get(FeedController.java:41)
            """
        #expect(fingerprinter.fingerprint(type: "E", message: "", stackTrace: jdk8) == fingerprinter.fingerprint(type: "E", message: "", stackTrace: jdk17))
    }

    @Test func prefixesApplyToNormalisedNames() {
        let fingerprinter = Fingerprinter(inAppPrefixes: ["com.example.feed.FeedService.load"])
        let fingerprint = fingerprinter.fingerprint(
            type: "E", message: "", stackTrace: "\tat com.example.feed.FeedService$1.load(FeedService.java:3)\n\tat com.example.other.X.y(X.java:1)")
        #expect(fingerprint.frames == ["com.example.feed.FeedService.load"])
    }
}
