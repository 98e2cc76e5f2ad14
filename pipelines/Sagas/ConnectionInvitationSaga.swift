import Foundation
import Runnel

/// `connection-invitation`: gets an invitation to its invitee. Started by each `InvitationSent`
/// on `connections` (one instance per invitation id), four steps:
///
/// 1. "track" — the invitations handler records the delivery (`sending`); undone by marking it `failed`.
/// 2. "notify" — the notifications handler pushes a notification; undone by retracting it.
/// 3. "email" — the email handler emails the invitee; it fails for addresses at a bouncing
///    domain (`bouncing_domains`), and then the notification is retracted and the delivery
///    marked failed, in that order.
/// 4. "analytics" — the analytics handler records the invitation.
public enum ConnectionInvitationSaga {
    /// The saga's name.
    public static let name = "connection-invitation"

    /// What an instance knows: the invitation's parties.
    public struct State: Codable, Sendable, Hashable {
        public var invitationId: Int64
        public var inviterId: Int64
        public var inviteeId: Int64
    }

    /// The saga, for the catalog.
    public static var saga: Saga {
        Saga(name, startedBy: NetworkTopic.connections, on: InvitationSent.self, id: { "\($0.invitationId)" },
             state: { State(invitationId: $0.invitationId, inviterId: $0.inviterId, inviteeId: $0.inviteeId) }) {
            SagaStep<State>("track", to: SagaTopic.invitationCommands) { TrackInvitation(invitationId: $0.invitationId, inviteeId: $0.inviteeId) }
                .completed(by: InvitationTracked.self)
                .compensate(to: SagaTopic.invitationCommands) { MarkInvitationFailed(invitationId: $0.invitationId) }
                .compensated(by: InvitationMarkedFailed.self)
            SagaStep<State>("notify", to: SagaTopic.notificationCommands) {
                SendPushNotification(invitationId: $0.invitationId, memberId: $0.inviteeId, inviterId: $0.inviterId)
            }
                .completed(by: NotificationSent.self)
                .compensate(to: SagaTopic.notificationCommands) { RetractNotification(invitationId: $0.invitationId) }
                .compensated(by: NotificationRetracted.self)
            SagaStep<State>("email", to: SagaTopic.emailCommands) {
                SendInvitationEmail(invitationId: $0.invitationId, inviteeId: $0.inviteeId, inviterId: $0.inviterId)
            }
                .completed(by: EmailSent.self)
                .failed(by: EmailFailed.self)
            SagaStep<State>("analytics", to: SagaTopic.analyticsCommands) {
                RecordInvitationAnalytics(invitationId: $0.invitationId, inviterId: $0.inviterId, inviteeId: $0.inviteeId)
            }
                .completed(by: AnalyticsRecorded.self)
        }
    }
}
