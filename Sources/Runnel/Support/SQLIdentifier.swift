/// Quoting of SQL identifiers (table and column names) that come from users or from the
/// database itself.
///
/// GRDB's `quotedDatabaseIdentifier` wraps a name in double quotes without doubling the quotes
/// inside it, so a table named `x"; DROP TABLE y; --` would break out of the quotes. Runnel
/// quotes every name it did not write itself through this function instead.
package enum SQLIdentifier {
    /// The name in double quotes, with each inner double quote doubled (SQL's escaping rule).
    ///
    /// ```swift
    /// SQLIdentifier.quoted(#"odd"name"#)  // "odd""name"
    /// ```
    package static func quoted(_ name: String) -> String {
        "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
