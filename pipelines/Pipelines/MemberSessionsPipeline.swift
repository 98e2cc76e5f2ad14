import Foundation
import Runnel

/// (d) Member sessions: bursts of a member's activity with no gap of 15 minutes or more. The
/// product team reads `member_sessions` for session length and depth; finished sessions are also
/// announced on the derived topic `member-sessions` (through derived.sqlite's outbox), for
/// pipelines downstream.
public enum MemberSessionsPipeline {
    static func sessions(emit: EmitPolicy) -> EventStream<ViewRow> {
        Source(NetworkTopic.memberActivity, as: ActivityRecorded.self, time: \.occurredAt)
            .filter { !$0.isBot }
            .keyBy("member_id", \.memberId)
            .window(.session(gap: .minutes(15)), lateness: .minutes(2), emit: emit) {
                Count("events")
                Sum("dwell_ms", \.dwellMs)
                DistinctCount("pages", \.page)
                Reduce("top_kind", initial: [String: Int64](), { kinds, activity in kinds[activity.kind, default: 0] += 1 },
                       merge: { kinds, other in kinds.merge(other, uniquingKeysWith: +) },
                       result: { kinds in kinds.max { ($0.value, $1.key) < ($1.value, $0.key) }?.key ?? "" })
            }
    }

    public static let pipeline = Pipeline(
        "member-sessions", version: 1,
        description: "Activity sessions per human member, 15-minute gap (view member_sessions, topic member-sessions)"
    ) {
        sessions(emit: .onUpdate)
            .into(ReadView("member_sessions", primaryKey: ["member_id", "window_start"]))
        sessions(emit: .onClose)
            .into(Topic("member-sessions", type: "SessionEnded") { "\($0["member_id", as: Int64.self] ?? 0)" })
    }
}
