import Runnel

/// Source stages more than one sample pipeline starts from.
enum NetworkSources {
    /// Every connection made, once for each of its two members: that member's id, at the
    /// connection's time.
    static var connectedMembers: EventStream<Int64> {
        Source(NetworkTopic.connections, as: ConnectionMade.self, time: \.connectedAt)
            .flatMap { [$0.memberA, $0.memberB] }
    }
}
