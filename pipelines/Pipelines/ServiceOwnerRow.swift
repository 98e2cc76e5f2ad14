import GRDB
import Runnel

/// A row of the app's `service_owners` table, as the tickets pipeline looks it up.
public struct ServiceOwnerRow: Decodable, FetchableRecord, Sendable, Hashable {
    public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase

    public var service: String
    public var team: String
    public var ownerEmail: String

    public init(service: String, team: String, ownerEmail: String) {
        self.service = service
        self.team = team
        self.ownerEmail = ownerEmail
    }

    /// Who a ticket of the service is for: the owner's address, none for ``unowned``.
    public var owners: [String] { ownerEmail.isEmpty ? [] : [ownerEmail] }

    /// Stands in for a service with no row: its tickets have no owners.
    public static let unowned = ServiceOwnerRow(service: "", team: "", ownerEmail: "")

    /// The `service_owners` table, looked up by `service`.
    public static let table = LookupTable<ServiceOwnerRow>("service_owners", key: "service")
}
