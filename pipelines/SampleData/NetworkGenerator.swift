import Foundation
import Runnel

/// Makes a deterministic sample network: members (a few percent of them bots) joining, inviting
/// and connecting, browsing and viewing profiles, and services throwing exceptions, two kinds of
/// which first appear part-way through, from versions that ship part-way too, while their hosts
/// report metrics; one ticket is resolved in a release and comes back after it.
///
/// Every random choice comes from one ``SeededGenerator``, so the same parameters give the same
/// operations in the same order, on any machine.
struct NetworkGenerator {
    private let parameters: SampleParameters
    private var random: SeededGenerator
    private var planned: [(sequence: Int, operation: NetworkOperation)] = []
    private let start: Int64
    private let end: Int64

    private static let hour: Int64 = 3_600_000
    private static let minute: Int64 = 60_000

    init(_ parameters: SampleParameters) {
        self.parameters = parameters
        random = SeededGenerator(seed: parameters.seed)
        start = parameters.start.millisecondsSince1970
        end = start + Int64(parameters.hours) * Self.hour
    }

    /// The operations, in the order they happen.
    mutating func operations() -> [NetworkOperation] {
        planned = []
        addOwners()
        let joins = addMembers()
        addHeadlineChanges(joins)
        addInvitations(joins)
        addActivity(joins)
        addProfileViews(joins)
        addExceptions()
        addHostMetrics()
        // Last, so the random choices before it, and the operations they make, stay as they were.
        addPremiumUpgrades(joins)
        return planned.sorted { ($0.operation.at, $0.sequence) < ($1.operation.at, $1.sequence) }.map(\.operation)
    }

    private mutating func add(_ operation: NetworkOperation) {
        planned.append((planned.count, operation))
    }

    // MARK: - Members

    private struct Joined {
        var id: Int64
        var at: Int64
        var isBot: Bool
    }

    private mutating func addMembers() -> [Joined] {
        var joins: [Joined] = []
        let members = max(parameters.members, 2)
        let founders = members * 7 / 10
        for index in 1...members {
            let id = Int64(index)
            let isBot = index % 25 == 0
            let at = index <= founders
                ? start + Int64(index) * 5_000
                : start + Int64(random.below(Int(max(end - start - 30 * Self.minute, 1))))
            let first = random.pick(Self.firstNames), last = random.pick(Self.lastNames)
            var join = NetworkOperation(op: "join", at: at)
            join.member = id
            join.name = isBot ? "crawler-\(index)" : "\(first) \(last)"
            join.email = isBot ? "crawler-\(index)@bots.example.net"
                : "\(first.lowercased()).\(last.lowercased()).\(index)@\(Self.bounces(index) ? Self.bouncingDomain : "example.net")"
            join.industry = isBot ? "Internet" : random.pick(Self.industries)
            join.headline = isBot ? "Automated agent" : "\(random.pick(Self.titles)) at \(random.pick(Self.companies))"
            join.location = random.pick(Self.locations)
            join.bot = isBot ? true : nil
            add(join)
            joins.append(Joined(id: id, at: at, isBot: isBot))
        }
        return joins
    }

    private mutating func addHeadlineChanges(_ joins: [Joined]) {
        for member in joins where !member.isBot && random.chance(0.2) {
            var change = NetworkOperation(op: "headline", at: later(than: member.at))
            change.member = member.id
            change.headline = "\(random.pick(Self.titles)) at \(random.pick(Self.companies))"
            add(change)
        }
    }

    private mutating func addInvitations(_ joins: [Joined]) {
        var pairs = Set<[Int64]>()
        var nextID: Int64 = 1
        for inviter in joins where !inviter.isBot {
            for _ in 0..<random.below(4) {
                let invitee = random.pick(joins)
                let pair = [min(inviter.id, invitee.id), max(inviter.id, invitee.id)]
                guard invitee.id != inviter.id, !invitee.isBot, pairs.insert(pair).inserted else { continue }
                let sentAt = later(than: max(inviter.at, invitee.at))
                var invite = NetworkOperation(op: "invite", at: sentAt)
                invite.id = nextID
                invite.member = inviter.id
                invite.other = invitee.id
                invite.message = random.chance(0.3) ? "Great meeting you at the \(random.pick(Self.events))!" : nil
                add(invite)
                let answeredAt = sentAt + 5 * Self.minute + Int64(random.below(Int(85 * Self.minute)))
                let answer = random.below(100)
                if answeredAt < end, answer < 85 {
                    add(NetworkOperation(op: answer < 70 ? "accept" : "decline", at: answeredAt).with(id: nextID))
                }
                nextID += 1
            }
        }
    }

    /// Every twentieth member (4, 24, 44, 64, 84) has an address at the domain whose mail bounces
    /// (`bouncing_domains` in `migrations/0006_sagas.sql`): their invitation emails fail, and
    /// the `connection-invitation` saga compensates (about 5 % of invitations).
    static func bounces(_ index: Int) -> Bool { index % 20 == 4 }
    static let bouncingDomain = "bounce.example.net"

    // MARK: - Premium

    /// A quarter of the members who can get mail ask for a premium plan, some time after
    /// joining. Every twelfth request is for `career-legacy`, a retired plan that old clients
    /// still offer: payments charges it, entitlements refuses it, and the charge is refunded.
    private mutating func addPremiumUpgrades(_ joins: [Joined]) {
        var nextID: Int64 = 1
        for member in joins where !member.isBot && !Self.bounces(Int(member.id)) && random.chance(0.25) {
            let plan = nextID % 12 == 0 ? "career-legacy" : random.chance(0.7) ? "premium-monthly" : "premium-yearly"
            var upgrade = NetworkOperation(op: "upgrade", at: later(than: member.at))
            upgrade.id = nextID
            upgrade.member = member.id
            upgrade.plan = plan
            add(upgrade)
            nextID += 1
        }
    }

    // MARK: - Activity

    private mutating func addActivity(_ joins: [Joined]) {
        var nextID: Int64 = 1
        for hour in 0..<Int64(parameters.hours) {
            let hourStart = start + hour * Self.hour
            for member in joins where member.at < hourStart + Self.hour {
                let count = member.isBot ? 2 + random.below(3) : random.below(6)
                for _ in 0..<count {
                    let at = max(hourStart + Int64(random.below(Int(Self.hour))), member.at + 1_000)
                    guard at < end else { continue }
                    var activity = NetworkOperation(op: "activity", at: at)
                    activity.id = nextID
                    activity.member = member.id
                    let kind = member.isBot ? "page_view" : Self.activityKind(random.below(100))
                    activity.kind = kind
                    activity.page = member.isBot ? "/in/\(1 + random.below(parameters.members))" : random.pick(Self.pages)
                    activity.dwell = member.isBot ? Int64(50 + random.below(250)) : Self.dwell(kind, &random)
                    activity.ua = member.isBot ? "Mozilla/5.0 (compatible; ExampleBot/2.1)" : random.pick(Self.userAgents)
                    add(activity)
                    nextID += 1
                }
            }
        }
    }

    private mutating func addProfileViews(_ joins: [Joined]) {
        var nextID: Int64 = 1
        for hour in 0..<Int64(parameters.hours) {
            let hourStart = start + hour * Self.hour
            let present = joins.filter { $0.at < hourStart }
            guard present.count >= 2 else { continue }
            for _ in 0..<max(parameters.members / 3, 1) {
                let viewer = random.pick(present), viewed = random.pick(present)
                guard viewer.id != viewed.id else { continue }
                var view = NetworkOperation(op: "view", at: hourStart + Int64(random.below(Int(Self.hour))))
                view.id = nextID
                view.member = viewer.id
                view.other = viewed.id
                add(view)
                nextID += 1
            }
        }
    }

    // MARK: - Operations

    private mutating func addOwners() {
        for (index, service) in Self.services.enumerated() {
            var owner = NetworkOperation(op: "owner", at: start + Int64(index))
            owner.service = service.name
            owner.team = service.team
            owner.email = "\(service.team)-oncall@example.net"
            add(owner)
        }
    }

    /// Each kind's exceptions, hour by hour, from the version the host runs then. The feed's
    /// ranking timeout tells a story in its last three hours (with 3 hours or more): its fix,
    /// 3.2.1, ships on app-01 two hours before the end and the ticket is resolved in it; for that
    /// hour only app-02, still on 3.2.0, throws it, which does not reopen the ticket; in the last
    /// hour both hosts run 3.2.1 and it comes back four times as often: a regression.
    private mutating func addExceptions() {
        var nextID: Int64 = 1
        let hours = parameters.hours
        let fixHour = hours >= 3 ? hours - 2 : nil
        for hour in 0..<hours {
            let hourStart = start + Int64(hour) * Self.hour
            for kind in Self.exceptionKinds {
                // New kinds start part-way through.
                guard hour >= kind.firstHour(hours) else { continue }
                let service = Self.services[kind.service]
                var count = kind.perHour + random.below(kind.perHour + 1)
                var hosts = service.hosts
                var from = hourStart
                if kind.type.hasSuffix("TimeoutException"), hours > 1 {
                    if hour == hours - 1 {
                        count *= 4
                    } else if hour == fixHour {
                        addResolution(of: kind, at: hourStart + 2 * Self.minute)
                        count = 2 + random.below(2)
                        hosts = hosts.filter { service.version(hour: hour, host: $0, of: hours) != Self.feedFixVersion }
                        from = hourStart + 5 * Self.minute
                    }
                }
                for _ in 0..<count {
                    var exception = NetworkOperation(op: "exception", at: from + Int64(random.below(Int(hourStart + Self.hour - from))))
                    exception.id = nextID
                    exception.service = service.name
                    let host = random.pick(hosts)
                    exception.host = host
                    exception.version = service.version(hour: hour, host: host, of: hours)
                    exception.level = kind.level
                    exception.type = kind.type
                    let message = kind.message(&random)
                    exception.message = message
                    exception.stack = kind.stack(message: message, &random)
                    add(exception)
                    nextID += 1
                }
            }
        }
    }

    /// The owners resolve `kind`'s ticket in the feed's fix release, by its id as the tickets
    /// pipeline computes it.
    private mutating func addResolution(of kind: ExceptionKind, at time: Int64) {
        let service = Self.services[kind.service]
        let message = kind.message(&random)
        var resolve = NetworkOperation(op: "resolve", at: time)
        resolve.service = service.name
        resolve.ticket = SampleCatalog.ticketID(service: service.name, type: kind.type, message: message, stackTrace: kind.stack(message: message, &random))
        resolve.version = Self.feedFixVersion
        resolve.note = "Ranking client retries with backoff and a 2 s budget"
        resolve.by = "\(service.team)-oncall@example.net"
        add(resolve)
    }

    private mutating func addHostMetrics() {
        let hosts = Array(Set(Self.services.flatMap(\.hosts))).sorted()
        var at = start
        while at < end {
            for host in hosts {
                for metric in ["cpu_pct", "mem_pct"] {
                    var sample = NetworkOperation(op: "metric", at: at)
                    sample.host = host
                    sample.metric = metric
                    sample.value = Double(100 + random.below(850)) / 10
                    add(sample)
                }
            }
            at += 10 * Self.minute
        }
    }

    /// A time up to two hours after `time` (at least a second), kept before the end when possible.
    private mutating func later(than time: Int64) -> Int64 {
        let room = max(min(end - time - Self.minute, 2 * Self.hour), 1_000)
        return time + 1_000 + Int64(random.below(Int(room)))
    }
}

private extension NetworkOperation {
    func with(id: Int64) -> NetworkOperation {
        var copy = self
        copy.id = id
        return copy
    }
}
