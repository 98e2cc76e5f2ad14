/// Stack traces for the fingerprint tests, written as the JVM and Python print them.
enum FingerprintFixtures {
    static let timeout = "java.util.concurrent.TimeoutException"

    /// A feed request timing out in the ranking client, with line numbers to vary.
    static func rankingTimeout(fetchLine: Int = 123, loadLine: Int = 57, poolLine: Int = 1136) -> String {
        """
        java.util.concurrent.TimeoutException: Timed out after 150 ms
        \tat java.base/java.util.concurrent.CompletableFuture.timedGet(CompletableFuture.java:1960)
        \tat java.base/java.util.concurrent.CompletableFuture.get(CompletableFuture.java:2095)
        \tat com.example.feed.RankingClient.fetch(RankingClient.java:\(fetchLine))
        \tat com.example.feed.FeedService.lambda$load$0(FeedService.java:\(loadLine))
        \tat java.base/java.util.concurrent.ThreadPoolExecutor.runWorker(ThreadPoolExecutor.java:\(poolLine))
        \tat java.base/java.lang.Thread.run(Thread.java:829)
        """
    }

    /// The same failure surfacing in the search client instead.
    static let searchTimeout = """
        java.util.concurrent.TimeoutException: Timed out after 150 ms
        \tat java.base/java.util.concurrent.CompletableFuture.timedGet(CompletableFuture.java:1960)
        \tat com.example.search.SearchClient.query(SearchClient.java:88)
        \tat com.example.search.SearchService.search(SearchService.java:31)
        \tat java.base/java.lang.Thread.run(Thread.java:829)
        """

    /// Library frames only: the JDBC driver failing on a pool thread.
    static func libraryOnly(poolLine: Int = 1136) -> String {
        """
        java.sql.SQLTransientConnectionException: Connection is not available
        \tat com.zaxxer.hikari.pool.HikariPool.createTimeoutException(HikariPool.java:696)
        \tat com.zaxxer.hikari.pool.HikariPool.getConnection(HikariPool.java:197)
        \tat java.base/java.util.concurrent.ThreadPoolExecutor.runWorker(ThreadPoolExecutor.java:\(poolLine))
        \tat java.base/java.lang.Thread.run(Thread.java:829)
        """
    }

    /// A wrapped exception: the outer section is the service's, the cause the client's.
    static func wrapped(causeFrame: String) -> String {
        """
        java.lang.IllegalStateException: Feed unavailable for member 81723
        \tat com.example.feed.FeedService.load(FeedService.java:61)
        \tat com.example.feed.FeedController.get(FeedController.java:40)
        \tat org.springframework.web.servlet.FrameworkServlet.service(FrameworkServlet.java:897)
        \tSuppressed: java.io.IOException: close failed
        \t\tat com.example.feed.Closer.close(Closer.java:12)
        Caused by: java.util.concurrent.TimeoutException: Timed out after 150 ms
        \tat \(causeFrame)(RankingClient.java:123)
        \tat com.example.feed.FeedService.load(FeedService.java:58)
        \t... 2 more
        """
    }

    /// Recursion through the comment tree, `depth` frames deep.
    static func recursion(depth: Int) -> String {
        var lines = ["java.lang.StackOverflowError"]
        for index in 0..<depth {
            lines.append("\tat com.example.comments.CommentTree.render(CommentTree.java:\(40 + index % 3))")
            lines.append("\tat java.base/java.util.ArrayList.forEach(ArrayList.java:1541)")
        }
        lines.append("\tat com.example.comments.CommentController.show(CommentController.java:22)")
        return lines.joined(separator: "\n")
    }

    /// A Python traceback chained onto another: the outermost exception is printed last.
    static let pythonChained = """
        Traceback (most recent call last):
          File "/usr/lib/python3.12/socket.py", line 836, in create_connection
            sock.connect(sa)
          File "app/feed/ranking.py", line 40, in fetch
            return client.get(url)
        TimeoutError: timed out

        During handling of the above exception, another exception occurred:

        Traceback (most recent call last):
          File "app/feed/views.py", line 12, in handler
            at = ranking.fetch(member)
          File "./app/feed/service.py", line 7, in load
            raise FeedUnavailable(member)
        FeedUnavailable: member 81723
        """

    /// Swift and other runtimes printing `at Module.function (file:line)`.
    static let generic = """
        Fatal error: Index out of range
        at FeedKit.RankingClient.fetch (RankingClient.swift:123)
        at FeedKit.FeedService.load(FeedService.swift:57)
        at Foundation.URLSession.dataTask (URLSession.swift:410)
        at FeedKit.main
        """
}
