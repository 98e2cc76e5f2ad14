/// A named moment inside a multi-step write (between a relay's append and its delete, between
/// a KV build's rename and its switch of `CURRENT`) where a crash test may stop the process to
/// kill it exactly there.
///
/// The library only names the moments. What happens at one is up to a hook that only the
/// test-only `runnel-fault-child` executable installs; in `runnel` and in applications there is
/// no hook, and reaching a moment costs one load and a branch.
package struct FaultPoint: Sendable {
    /// The moment's name, as crash tests spell it.
    package let moment: String

    package init(_ moment: String) {
        self.moment = moment
    }

    /// Calls the hook with the moment, if one is installed.
    @inline(__always)
    package func reach() {
        if let hook = Self.hook { hook(moment) }
    }

    /// What a test child does at each moment. Set once, before the process starts any thread
    /// or task, and only read after that; nil everywhere else.
    nonisolated(unsafe) package static var hook: (@Sendable (String) -> Void)?
}
