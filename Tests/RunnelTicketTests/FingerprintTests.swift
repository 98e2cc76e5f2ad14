import Foundation
import Runnel
import Testing

/// Exception fingerprints: what groups, what splits, and what the parts say.
@Suite struct FingerprintTests {
    let fingerprinter = Fingerprinter(inAppPrefixes: ["com.example."])
    typealias Fixtures = FingerprintFixtures

    @Test func sameFramesWithDifferentLineNumbersGroup() {
        let first = fingerprinter.fingerprint(type: Fixtures.timeout, message: "Timed out after 150 ms", stackTrace: Fixtures.rankingTimeout())
        let second = fingerprinter.fingerprint(
            type: Fixtures.timeout, message: "Timed out after 900 ms",
            stackTrace: Fixtures.rankingTimeout(fetchLine: 131, loadLine: 60, poolLine: 1144))
        #expect(first.id == second.id)
        #expect(first.frames == ["com.example.feed.RankingClient.fetch", "com.example.feed.FeedService.load"])
        #expect(first.message == nil)
    }

    @Test func differentInAppFramesSplit() {
        let ranking = fingerprinter.fingerprint(type: Fixtures.timeout, message: "Timed out after 150 ms", stackTrace: Fixtures.rankingTimeout())
        let search = fingerprinter.fingerprint(type: Fixtures.timeout, message: "Timed out after 150 ms", stackTrace: Fixtures.searchTimeout)
        #expect(ranking.id != search.id)
    }

    @Test func theTypeAloneNeverMergesDifferentFrames() {
        let message = "Timed out after 150 ms"
        let withFrames = fingerprinter.fingerprint(type: Fixtures.timeout, message: message, stackTrace: Fixtures.rankingTimeout())
        let withoutFrames = fingerprinter.fingerprint(type: Fixtures.timeout, message: message, stackTrace: "")
        let otherFrame = fingerprinter.fingerprint(
            type: Fixtures.timeout, message: message, stackTrace: "\tat com.example.feed.RankingClient.fetchAll(RankingClient.java:123)")
        #expect(Set([withFrames.id, withoutFrames.id, otherFrame.id]).count == 3)
    }

    @Test func withoutInAppFramesMessagesDifferingOnlyInValuesGroup() {
        let first = fingerprinter.fingerprint(
            type: "java.sql.SQLTransientConnectionException",
            message: "Connection is not available, request 550e8400-e29b-41d4-a716-446655440000 timed out after 30000ms (total=10, active=10)",
            stackTrace: Fixtures.libraryOnly())
        let second = fingerprinter.fingerprint(
            type: "java.sql.SQLTransientConnectionException",
            message: "Connection is not available, request 6ba7b810-9dad-11d1-80b4-00c04fd430c8 timed out after 5000ms (total=20, active=19)",
            stackTrace: Fixtures.libraryOnly(poolLine: 1144))
        #expect(first.id == second.id)
        #expect(first.frames.isEmpty)
        #expect(first.message == "Connection is not available, request <uuid> timed out after <duration> (total=<int>, active=<int>)")
    }

    @Test func withoutInAppFramesDifferentMessagesSplit() {
        let notAvailable = fingerprinter.fingerprint(
            type: "java.sql.SQLException", message: "Connection is not available", stackTrace: Fixtures.libraryOnly())
        let refused = fingerprinter.fingerprint(type: "java.sql.SQLException", message: "Connection refused", stackTrace: Fixtures.libraryOnly())
        #expect(notAvailable.id != refused.id)
    }

    @Test func libraryFramesAreLeftOut() {
        let withLibraries = fingerprinter.fingerprint(type: Fixtures.timeout, message: "", stackTrace: Fixtures.rankingTimeout())
        let inAppOnly = fingerprinter.fingerprint(
            type: Fixtures.timeout, message: "",
            stackTrace: "\tat com.example.feed.RankingClient.fetch(RankingClient.java:1)\n\tat com.example.feed.FeedService.load(FeedService.java:2)")
        #expect(withLibraries.id == inAppOnly.id)
        #expect(withLibraries.frames.allSatisfy { $0.hasPrefix("com.example.") })
    }

    @Test func onlyTheOutermostSectionCountsNotCausesOrSuppressed() {
        let viaRanking = fingerprinter.fingerprint(
            type: "java.lang.IllegalStateException", message: "Feed unavailable",
            stackTrace: Fixtures.wrapped(causeFrame: "com.example.feed.RankingClient.fetch"))
        let viaSearch = fingerprinter.fingerprint(
            type: "java.lang.IllegalStateException", message: "Feed unavailable",
            stackTrace: Fixtures.wrapped(causeFrame: "com.example.search.SearchClient.query"))
        #expect(viaRanking.frames == ["com.example.feed.FeedService.load", "com.example.feed.FeedController.get"])
        #expect(viaRanking.id == viaSearch.id)
    }

    @Test func recursionCollapsesWhateverItsDepth() {
        let shallow = fingerprinter.fingerprint(type: "java.lang.StackOverflowError", message: "", stackTrace: Fixtures.recursion(depth: 2))
        let deep = fingerprinter.fingerprint(type: "java.lang.StackOverflowError", message: "", stackTrace: Fixtures.recursion(depth: 500))
        #expect(shallow.id == deep.id)
        #expect(deep.frames == ["com.example.comments.CommentTree.render", "com.example.comments.CommentController.show"])
    }

    @Test func thePartsSayWhyExceptionsGrouped() {
        let framed = fingerprinter.fingerprint(type: Fixtures.timeout, message: "Timed out after 150 ms", stackTrace: Fixtures.rankingTimeout())
        #expect(framed.parts == [
            "type java.util.concurrent.TimeoutException",
            "frame com.example.feed.RankingClient.fetch",
            "frame com.example.feed.FeedService.load",
        ])
        let unframed = fingerprinter.fingerprint(type: Fixtures.timeout, message: "Timed out after 150 ms", stackTrace: Fixtures.libraryOnly())
        #expect(unframed.parts == ["type java.util.concurrent.TimeoutException", "message Timed out after <int> ms"])
    }

    /// A golden id: when this changes, every stored ticket's fingerprint changes with it, so a
    /// change of the algorithm must be deliberate (and migrate or regroup the tickets).
    @Test func fingerprintsAreStableAcrossRuns() {
        let framed = fingerprinter.fingerprint(type: Fixtures.timeout, message: "Timed out after 150 ms", stackTrace: Fixtures.rankingTimeout())
        #expect(framed.id == "f1775873247bd96c1e22d7b846570e6b")
        let unframed = fingerprinter.fingerprint(type: Fixtures.timeout, message: "Timed out after 150 ms", stackTrace: "")
        #expect(unframed.id == "74f585071865069b022e6b408783b138")
    }

    @Test func theIdIsTheHashOfTheParts() {
        let framed = fingerprinter.fingerprint(type: Fixtures.timeout, message: "x", stackTrace: Fixtures.rankingTimeout())
        let rebuilt = ExceptionFingerprint(exceptionType: framed.exceptionType, frames: framed.frames, message: "ignored with frames")
        #expect(rebuilt == framed)
        let unframed = fingerprinter.fingerprint(type: Fixtures.timeout, message: "Timed out after 150 ms", stackTrace: "")
        #expect(ExceptionFingerprint(exceptionType: Fixtures.timeout, frames: [], message: "Timed out after <int> ms") == unframed)
        #expect(framed.id.count == 32)
        #expect(framed.id.allSatisfy { "0123456789abcdef".contains($0) })
    }

    @Test func aFingerprintSurvivesJSON() throws {
        let fingerprint = fingerprinter.fingerprint(type: Fixtures.timeout, message: "Timed out", stackTrace: Fixtures.rankingTimeout())
        let decoded = try JSONDecoder().decode(ExceptionFingerprint.self, from: JSONEncoder().encode(fingerprint))
        #expect(decoded == fingerprint)
        #expect(decoded.parts == fingerprint.parts)
    }

    @Test func whiteSpaceAroundTheTypeAndTemplateIsIgnored() {
        let plain = fingerprinter.fingerprint(type: Fixtures.timeout, message: "Timed out", stackTrace: "")
        let padded = fingerprinter.fingerprint(type: " \(Fixtures.timeout)\n", message: "Timed out \n", stackTrace: "")
        #expect(plain == padded)
    }

    @Test func withNoPrefixesEveryFrameCounts() {
        let fingerprint = Fingerprinter(inAppPrefixes: []).fingerprint(type: Fixtures.timeout, message: "", stackTrace: Fixtures.searchTimeout)
        #expect(fingerprint.frames == [
            "java.util.concurrent.CompletableFuture.timedGet", "com.example.search.SearchClient.query",
            "com.example.search.SearchService.search", "java.lang.Thread.run",
        ])
    }

    @Test func pythonTracesUseTheLastTraceback() {
        let python = Fingerprinter(inAppPrefixes: ["app/"])
        let fingerprint = python.fingerprint(type: "FeedUnavailable", message: "member 81723", stackTrace: Fixtures.pythonChained)
        #expect(fingerprint.frames == ["app/feed/views.handler", "app/feed/service.load"])
    }

    @Test func genericAndSwiftFramesAreRead() {
        let swift = Fingerprinter(inAppPrefixes: ["FeedKit."])
        let fingerprint = swift.fingerprint(type: "Fatal error", message: "Index out of range", stackTrace: Fixtures.generic)
        #expect(fingerprint.frames == ["FeedKit.RankingClient.fetch", "FeedKit.FeedService.load", "FeedKit.main"])
    }

    @Test func crlfLineEndsReadAsLineFeeds() {
        let unix = fingerprinter.fingerprint(type: Fixtures.timeout, message: "", stackTrace: Fixtures.rankingTimeout())
        let windows = fingerprinter.fingerprint(
            type: Fixtures.timeout, message: "", stackTrace: Fixtures.rankingTimeout().replacingOccurrences(of: "\n", with: "\r\n"))
        #expect(unix == windows)
    }
}
