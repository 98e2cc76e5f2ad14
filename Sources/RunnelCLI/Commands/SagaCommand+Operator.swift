import ArgumentParser
import Foundation
import GRDB
import Runnel

extension SagaCommand {
    /// `runnel saga abort ID`: gives up a running instance and undoes its completed steps.
    struct Abort: ParsableCommand {
        static var configuration: CommandConfiguration {
            CommandConfiguration(
                abstract: "Abort a running saga instance: what it awaits is given up and its completed steps are undone, last first.",
                discussion: """
                    Only a running instance can be aborted. The instance's change, its timeline entry and \
                    the first compensation commit in one transaction in app.sqlite; the saga's coordinator \
                    sends the rest as the compensations are answered (`\(CLIContext.current.programName) run SAGA`, \
                    or a follower). A reply to what it awaited that comes later is recorded as late, and a \
                    step that completed late is undone too.
                    """)
        }

        @Argument(help: "The instance's id (premium-upgrade:42).") var id: String
        @Option(name: .long, help: "Why, for the timeline.") var reason = "aborted by an operator"
        @OptionGroup var home: HomeOptions

        func run() throws {
            let saga = try SagaCommand.saga(of: id)
            let store = try SagaCommand.openForChange(id, home: home)
            try SagaCoordinator.abort(id, of: saga, in: store, reason: reason)
            try SagaCommand.reportChange(id, of: saga, in: store, done: "aborted (\(reason))", home: home)
        }
    }

    /// `runnel saga retry ID`: sends a failed instance's compensation again.
    struct Retry: ParsableCommand {
        static var configuration: CommandConfiguration {
            CommandConfiguration(
                abstract: "Send a failed saga instance's compensation again, from its first attempt.",
                discussion: """
                    Only a failed instance (a compensation refused or unanswered on its last attempt) can be \
                    retried. The compensation goes into the app outbox with the same command id, in one \
                    transaction with the instance's change; the saga's coordinator goes on undoing the steps \
                    before it as their compensations are answered (`\(CLIContext.current.programName) run SAGA`, or a follower).
                    """)
        }

        @Argument(help: "The instance's id (premium-upgrade:42).") var id: String
        @OptionGroup var home: HomeOptions

        func run() throws {
            let saga = try SagaCommand.saga(of: id)
            let store = try SagaCommand.openForChange(id, home: home)
            try SagaCoordinator.retry(id, of: saga, in: store)
            try SagaCommand.reportChange(id, of: saga, in: store, done: "retried", home: home)
        }
    }

    /// The home's store, once the instance is known to exist: checked read-only first, so a
    /// mistyped --home is not created as an empty home and an unknown id gets the list's hint.
    static func openForChange(_ id: String, home: HomeOptions) throws -> Store {
        let resolved = home.resolved
        guard try openApp(resolved).read({ try SagaRecords.instance(id, in: $0) }) != nil else {
            throw unknown(id, in: resolved, flag: home.hintFlag)
        }
        return try Store.open(resolved)
    }

    /// Says what the change did and what happens next.
    static func reportChange(_ id: String, of saga: Saga, in store: Store, done: String, home: HomeOptions) throws {
        let console = CLIContext.current.console
        let program = CLIContext.current.programName, flag = home.hintFlag
        guard let instance = try store.app.read({ try SagaRecords.instance(id, in: $0) }) else { return }
        console.print("saga \(id): \(done); it is \(instance.state.rawValue) now.")
        switch instance.state {
        case .compensating:
            let step = stepName(instance.step, of: saga.name).map { " of step \(instance.step + 1) \($0)" } ?? ""
            console.print("The compensation\(step) (\(instance.awaiting ?? "-")) is in the app outbox. "
                          + "`\(program) relay\(flag)` carries it to its handler; the coordinator then sends the next ones as they are answered: "
                          + "`\(program) run \(saga.name)\(flag)` after the handlers, or let a follower (`\(program) run --all --follow`) do it.")
        case .compensated:
            console.print("No completed step had a compensation to send: nothing is left to undo.")
        case .failed:
            console.print("Its compensation could not be sent: \(instance.reason ?? "see its timeline"). "
                          + "`\(program) saga show \(id)\(flag)` has the timeline; once the cause is mended, `\(program) saga retry \(id)\(flag)` sends it again.")
        default:
            break
        }
    }
}
