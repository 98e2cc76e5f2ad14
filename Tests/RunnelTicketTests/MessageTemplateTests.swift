import Runnel
import Testing

/// Message templates: every placeholder kind, messages mixing them, and what must stay as written.
@Suite struct MessageTemplateTests {
    /// One row: a message and its template.
    struct Case: Sendable, CustomTestStringConvertible {
        var message: String
        var template: String

        init(_ message: String, _ template: String) {
            self.message = message
            self.template = template
        }

        var testDescription: String { message }
    }

    static let eachKind: [Case] = [
        Case("Order 550e8400-e29b-41d4-a716-446655440000 not found", "Order <uuid> not found"),
        Case("Session 550E8400-E29B-41D4-A716-446655440000 expired", "Session <uuid> expired"),
        Case("No account for jane.doe+feed@example.co.uk", "No account for <email>"),
        Case("GET https://api.example.com/v2/members/42?expand=true failed", "GET <url> failed"),
        Case("Cannot reach http://10.0.0.1:8080/health.", "Cannot reach <url>."),
        Case("Connection to 10.0.3.17 refused", "Connection to <ip> refused"),
        Case("Connection to 10.0.3.17:5432 refused", "Connection to <ip>:<int> refused"),
        Case("Bind failed on 2001:db8::8a2e:370:7334", "Bind failed on <ip>"),
        Case("Listening on ::1 and fe80::1%eth0", "Listening on <ip> and <ip>%eth0"),
        Case("Peer ::ffff:192.168.1.9 reset the stream", "Peer <ip> reset the stream"),
        Case("Batch for 2026-01-05 is late", "Batch for <date> is late"),
        Case("Token expired at 2026-01-05T13:00:00Z", "Token expired at <datetime>"),
        Case("Lease until 2026-01-05T13:00:00.123+01:00 held", "Lease until <datetime> held"),
        Case("Run at 2026-01-05 13:00:00 failed", "Run at <datetime> failed"),
        Case("Cron fired at 13:05:22 twice", "Cron fired at <time> twice"),
        Case("Cron fired at 9:05:22.250 twice", "Cron fired at <time> twice"),
        Case("Timed out after 150ms", "Timed out after <duration>"),
        Case("Retrying in 2.5s", "Retrying in <duration>"),
        Case("Lock held for 3m by another run", "Lock held for <duration> by another run"),
        Case("Job ran for 1h30m", "Job ran for <duration>"),
        Case("Took 40µs", "Took <duration>"),
        Case("Bad pointer 0x7f3a9c00", "Bad pointer <hex>"),
        Case("Commit 7f3a9b2c1d not found", "Commit <hex> not found"),
        Case("Task java.util.concurrent.FutureTask@12345678 rejected from pool@7a81197d", "Task java.util.concurrent.FutureTask@<hex> rejected from pool@<hex>"),
        Case("Load factor 0.75 exceeded", "Load factor <float> exceeded"),
        Case("Value 6.02e23 out of range", "Value <float> out of range"),
        Case("Member 81723 not found", "Member <int> not found"),
        Case("User 'jane' not found", "User <quoted> not found"),
        Case("Unknown field \"nickname\" in request", "Unknown field <quoted> in request"),
    ]

    static let mixed: [Case] = [
        Case("User 'jane' (id=81723) not found in shard-7 after 150ms",
             "User <quoted> (id=<int>) not found in shard-<int> after <duration>"),
        Case("Connection to 10.0.3.17:5432 refused at 2026-01-05T13:00:00Z",
             "Connection to <ip>:<int> refused at <datetime>"),
        Case("Request 550e8400-e29b-41d4-a716-446655440000 from bob@example.com to https://x.example.com/a took 2.5s (limit 2000ms), retry 3 of 5",
             "Request <uuid> from <email> to <url> took <duration> (limit <duration>), retry <int> of <int>"),
        Case("Expected 3 rows but got 1,204", "Expected <int> rows but got <int>,<int>"),
        Case("Offset -42 is before the start", "Offset <int> is before the start"),
        Case("Balance (-3.5) below zero", "Balance (<float>) below zero"),
        Case("key=value count=12 ratio=0.5", "key=value count=<int> ratio=<float>"),
        Case("Said \"it's 'fine'\" twice", "Said <quoted> twice"),
        Case("Expected 'order \"42\"' got 'order 43'", "Expected <quoted> got <quoted>"),
        Case("Row [12, 13, 14] duplicated", "Row [<int>, <int>, <int>] duplicated"),
    ]

    static let staysAsWritten: [Case] = [
        Case("Invalid utf8 in payload", "Invalid utf8 in payload"),
        Case("No ipv6 route to S3 bucket", "No ipv6 route to S3 bucket"),
        Case("Client v1.2.3 is too old", "Client v1.2.3 is too old"),
        Case("Requires protocol 1.2.3 or later", "Requires protocol 1.2.3 or later"),
        Case("Host db1.example.com unreachable", "Host db1.example.com unreachable"),
        Case("user42 has no 5xx quota of 10MB", "user42 has no 5xx quota of 10MB"),
        Case("Can't parse the user's name", "Can't parse the user's name"),
        Case("Unclosed 'quote in message", "Unclosed 'quote in message"),
        Case("Magic cafebabe in 2 files", "Magic cafebabe in <int> files"),
        Case("Method Foo::bar failed", "Method Foo::bar failed"),
        Case("NullPointerException", "NullPointerException"),
        Case("", ""),
        Case("naïve café 2x", "naïve café 2x"),
    ]

    static let edgeCases: [Case] = [
        Case("Retried 5 times.", "Retried <int> times."),
        Case("Took 2.5.", "Took <float>."),
        Case("Port 8080", "Port <int>"),
        Case("12345678 is an integer, 1234567e is hex, 123abc is a word", "<int> is an integer, <hex> is hex, 123abc is a word"),
        Case("See 1e10 and 1.5E-3", "See <float> and <float>"),
        Case("Range 1-5 invalid", "Range <int>-<int> invalid"),
        Case("Path /var/data/42/file.txt missing", "Path /var/data/<int>/file.txt missing"),
        Case("Deadline 2026-01-05T13:00Z passed", "Deadline <datetime> passed"),
        Case("Queue 'orders-7' full: 10000 pending", "Queue <quoted> full: <int> pending"),
        Case("At 13:05 exactly", "At <int>:<int> exactly"),
        Case("Escaped \"a \\\"b\\\" c\" value", "Escaped <quoted> value"),
    ]

    @Test(arguments: eachKind)
    func eachKindOfValueBecomesItsPlaceholder(_ row: Case) {
        #expect(MessageTemplate.parameterize(row.message) == row.template)
    }

    @Test(arguments: mixed)
    func messagesMixingKindsReplaceEachValue(_ row: Case) {
        #expect(MessageTemplate.parameterize(row.message) == row.template)
    }

    @Test(arguments: staysAsWritten)
    func wordsWithDigitsVersionsAndApostrophesStayAsWritten(_ row: Case) {
        #expect(MessageTemplate.parameterize(row.message) == row.template)
    }

    @Test(arguments: edgeCases)
    func edgeCasesReadAsDocumented(_ row: Case) {
        #expect(MessageTemplate.parameterize(row.message) == row.template)
    }

    @Test func messagesDifferingOnlyInValuesShareATemplate() {
        let first = MessageTemplate.parameterize("Order 550e8400-e29b-41d4-a716-446655440000 for member 17 failed after 150ms")
        let second = MessageTemplate.parameterize("Order 6ba7b810-9dad-11d1-80b4-00c04fd430c8 for member 90210 failed after 2s")
        #expect(first == second)
    }

    @Test func parameterizingATemplateAgainChangesNothing() {
        for row in Self.eachKind + Self.mixed + Self.edgeCases {
            let template = MessageTemplate.parameterize(row.message)
            #expect(MessageTemplate.parameterize(template) == template)
        }
    }
}
