/// The orders the reports print things in, all total, so input order never shows in the output.
enum ReportOrder {
    /// Text by its UTF-8 bytes. `String`'s `<` treats canonically equivalent strings ("é" as one
    /// scalar or as "e" plus an accent) as equal, which would leave their order to the input's.
    static func precedes(_ a: String, _ b: String) -> Bool {
        a.utf8.lexicographicallyPrecedes(b.utf8)
    }

    /// Byte equality, for the same reason.
    static func same(_ a: String, _ b: String) -> Bool {
        a.utf8.elementsEqual(b.utf8)
    }

    /// Tickets as they ask for attention: new, then regressed, then ongoing; within each, most
    /// exceptions in 24 hours first; then by id. Ids are unique, but the remaining fields break
    /// ties anyway so that a malformed input still renders the same every time.
    static func attention(_ a: ExceptionReport.Ticket, _ b: ExceptionReport.Ticket) -> Bool {
        if a.change != b.change { return rank(a.change) < rank(b.change) }
        if a.countLast24h != b.countLast24h { return a.countLast24h > b.countLast24h }
        if !same(a.id, b.id) { return precedes(a.id, b.id) }
        if a.lastSeen != b.lastSeen { return a.lastSeen > b.lastSeen }
        for (x, y) in [(a.fingerprint, b.fingerprint), (a.service, b.service), (a.exceptionType, b.exceptionType),
                       (a.level, b.level), (a.state, b.state), (a.owner ?? "", b.owner ?? ""),
                       (a.sampleMessage, b.sampleMessage), (a.sampleStackTrace, b.sampleStackTrace)] where !same(x, y) {
            return precedes(x, y)
        }
        if a.firstSeen != b.firstSeen { return a.firstSeen < b.firstSeen }
        if (a.owner == nil) != (b.owner == nil) { return a.owner == nil }
        return a.countsByHour.lexicographicallyPrecedes(b.countsByHour)
    }

    /// Tickets by how busy they are: most exceptions in 24 hours first, then by id, whatever
    /// their change (the dashboard's open tickets).
    static func busiest(_ a: ExceptionReport.Ticket, _ b: ExceptionReport.Ticket) -> Bool {
        if a.countLast24h != b.countLast24h { return a.countLast24h > b.countLast24h }
        if !same(a.id, b.id) { return precedes(a.id, b.id) }
        return attention(a, b)
    }

    /// Type × level rows: highest count first, then by type, then by level.
    static func typeLevel(_ a: ExceptionReport.TypeLevelCount, _ b: ExceptionReport.TypeLevelCount) -> Bool {
        if a.count != b.count { return a.count > b.count }
        if !same(a.exceptionType, b.exceptionType) { return precedes(a.exceptionType, b.exceptionType) }
        return precedes(a.level, b.level)
    }

    private static func rank(_ change: ExceptionReport.Ticket.Change) -> Int {
        switch change {
        case .new: 0
        case .regressed: 1
        case .ongoing: 2
        }
    }
}

extension ExceptionReport {
    /// New and regressed tickets, in the order they are shown.
    var newAndRegressedTickets: [Ticket] {
        tickets.filter { $0.change != .ongoing }.sorted(by: ReportOrder.attention)
    }

    /// Ongoing tickets, in the order they are shown.
    var ongoingTickets: [Ticket] {
        tickets.filter { $0.change == .ongoing }.sorted(by: ReportOrder.attention)
    }

    /// The type × level rows, in the order they are shown.
    var orderedTypesByLevel: [TypeLevelCount] {
        typesByLevel.sorted(by: ReportOrder.typeLevel)
    }

    /// Exceptions in the hour reported, from the type × level counts.
    var exceptionsThisHour: Int64 {
        typesByLevel.reduce(0) { $0 &+ $1.count }
    }
}
