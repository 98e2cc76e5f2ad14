import GRDB
import Runnel

/// A row of the app's `members` table, as enrich stages look it up.
public struct MemberRow: Decodable, FetchableRecord, Sendable, Hashable {
    public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase

    public var memberId: Int64
    public var name: String
    public var industry: String
    public var isBot: Bool

    public init(memberId: Int64, name: String, industry: String, isBot: Bool) {
        self.memberId = memberId
        self.name = name
        self.industry = industry
        self.isBot = isBot
    }

    /// The `members` table, looked up by `member_id`.
    public static let table = LookupTable<MemberRow>("members", key: "member_id")
}
