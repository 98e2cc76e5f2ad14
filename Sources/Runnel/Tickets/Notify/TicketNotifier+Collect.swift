import Foundation
import GRDB

extension TicketNotifier {
    /// What ``collect()`` read from the tickets topic.
    public struct Collected: Sendable, Hashable {
        /// `TicketOpened` and `TicketReopened` records read.
        public var changes = 0
        /// New notifications (one per owner of each change).
        public var notifications = 0
        /// Notifications not made because their change (ticket and opening) was already
        /// collected, one per owner it names now: changes announced again, by a rebuild of the
        /// tickets pipeline or a replay after a crash. A change is told to the owners it named
        /// when it was first collected, even if the service's owners changed since.
        public var alreadyCollected = 0
        /// Changes without owners: nobody to tell.
        public var unowned = 0
        /// Records of those types that did not decode as a ``TicketChange``; logged and passed over.
        public var undecodable = 0
    }

    /// Reads the changes announced since the last collection and records one notification per
    /// change and owner.
    ///
    /// A change (ticket and opening) is collected once: announced again, by a replay or by a
    /// rebuild of the tickets pipeline that names the service's owners of now, it adds nothing.
    /// Each batch's changes, notifications and the topic's new offsets are committed in one
    /// `app.sqlite` transaction: a crash replays the batch, which then adds nothing.
    /// - Throws: ``RunnelError`` for a damaged log, a gap at the notifier's offset, a log that
    ///   ends before the offsets already read (`.tickets`), or a database failure.
    public func collect() throws -> Collected {
        var collection = Collected()
        guard let log = try openLog(), let topic = try log.topic(topic) else { return collection }
        let offsets = try RunnelError.naming(store.app.path, "reading runnel_notification_offsets") {
            try store.app.read { try NotificationLedger.offsets(of: self.topic, in: $0) }
        }
        let decoder = EventDecoder()
        let webhookOn = webhook != nil
        for partition in topic.partitions {
            try partition.refresh()
            var next = offsets[partition.partition] ?? 0
            if next > partition.endOffset {
                throw RunnelError(.tickets, "runnel_notification_offsets in \(store.app.path) has partition \(partition.partition) of \(self.topic) "
                                  + "read to offset \(next), but the log ends at \(partition.endOffset): the log was replaced or cut",
                                  hint: "Delete the topic's rows from runnel_notification_offsets to read it from its start again; "
                                      + "notifications already collected are not made twice")
            }
            if next < partition.startOffset {
                // Also on a first read (no offset saved yet): a notifier started on a home whose
                // topic already lost its start never tells those owners either.
                logger.warning("tickets topic records were removed by retention before they were collected", metadata: [
                    "notify.topic": "\(self.topic)", "notify.partition": "\(partition.partition)",
                    "notify.from": "\(next)", "notify.to": "\(partition.startOffset)",
                    "notify.skipped": "\(partition.startOffset - next)",
                ])
                next = partition.startOffset
            }
            while next < partition.endOffset {
                var changes: [(change: TicketChange, type: String)] = []
                let after = try partition.forEachRecord(from: next) { record in
                    guard let type = record.header("type").map({ String(decoding: $0, as: UTF8.self) }),
                          type == "TicketOpened" || type == "TicketReopened" else { return true }
                    do {
                        guard let value = record.value else { throw RunnelError(.tickets, "the record has no value") }
                        changes.append((try decoder.decode(TicketChange.self, from: value), type))
                    } catch {
                        collection.undecodable += 1
                        logger.warning("a ticket change does not decode; no notification is made for it", metadata: [
                            "notify.topic": "\(self.topic)", "notify.partition": "\(partition.partition)",
                            "notify.offset": "\(record.offset)", "notify.error": "\(DecodingProblem.describe(error))",
                        ])
                    }
                    return changes.count < options.batchSize
                }
                guard after > next else { break }
                let now = Date().millisecondsSince1970
                let (inserted, repeated) = try RunnelError.naming(store.app.path, "collecting ticket notifications") {
                    try store.app.write { db in
                        var inserted = 0
                        var repeated = 0
                        for (change, type) in changes {
                            guard try NotificationLedger.insertChange(ticketId: change.ticketId, opening: change.opening, at: now, in: db) else {
                                repeated += change.owners.count
                                continue
                            }
                            for owner in change.owners {
                                if try NotificationLedger.insert(TicketNotification(change, owner: owner), type: type, webhook: webhookOn, at: now, in: db) {
                                    inserted += 1
                                } else {
                                    repeated += 1
                                }
                            }
                        }
                        try NotificationLedger.save(offset: after, of: self.topic, partition: partition.partition, in: db)
                        return (inserted, repeated)
                    }
                }
                collection.changes += changes.count
                collection.unowned += changes.filter { $0.change.owners.isEmpty }.count
                collection.notifications += inserted
                collectedCounter.increment(by: inserted)
                collection.alreadyCollected += repeated
                next = after
            }
        }
        if collection.notifications > 0 {
            logger.info("ticket notifications collected", metadata: ["notify.changes": "\(collection.changes)", "notify.new": "\(collection.notifications)"])
        }
        return collection
    }
}
