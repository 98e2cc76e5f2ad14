import ArgumentParser
import Foundation
import GRDB
import Runnel

extension SagaCommand {
    /// `runnel saga show ID`: one instance and its timeline.
    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a saga instance: its state, step, what it awaits, its data, and its timeline.",
            discussion: """
                The timeline lists, in order, each command and compensation sent, each reply taken or \
                ignored (duplicate, late, unknown), each timeout and retry, and the operator's actions. An \
                id with no instance (a reply came for an instance that does not exist) still shows the \
                timeline those replies left. Steps are 1-based; times are ISO 8601 UTC.
                """)

        enum Format: String, ExpressibleByArgument, CaseIterable {
            case text, json
        }

        @Argument(help: "The instance's id: the saga's name, ':' and the business id (premium-upgrade:42).") var id: String
        @Option(name: .long, help: "Output format: text, or json (one object: instance and timeline).") var format: Format = .text
        @OptionGroup var home: HomeOptions

        func run() throws {
            let context = CLIContext.current
            let home = home.resolved
            let (instance, timeline) = try SagaCommand.openApp(home).read { db in
                (try SagaRecords.instance(id, in: db), try SagaRecords.timeline(id, in: db))
            }
            guard instance != nil || !timeline.isEmpty else { throw SagaCommand.unknown(id, in: home, flag: self.home.hintFlag) }
            let saga = instance?.saga ?? String(id.prefix { $0 != ":" })
            switch format {
            case .text:
                Self.lines(instance, timeline, id: id, saga: saga).forEach { context.console.print($0) }
            case .json:
                context.console.print(try Self.json(instance, timeline, id: id, saga: saga))
            }
        }

        static func lines(_ instance: SagaInstanceRecord?, _ timeline: [SagaLogEntry], id: String, saga: String) -> [String] {
            var lines: [String] = []
            if let instance {
                lines.append("saga \(instance.id) · \(instance.saga) · \(instance.state.rawValue)")
                let step = "\(instance.step + 1)" + (SagaCommand.stepName(instance.step, of: saga).map { " \($0)" } ?? "")
                lines.append("step:       \(step) (\(instance.completedSteps) completed), attempt \(instance.attempt)")
                lines.append("awaiting:   \(instance.awaiting ?? "nothing")")
                lines.append("deadline:   \(SagaCommand.iso(instance.deadline) ?? "none")")
                if let reason = instance.reason { lines.append("reason:     \(reason)") }
                lines.append("started:    \(SagaCommand.iso(instance.startedAt)!)")
                lines.append("updated:    \(SagaCommand.iso(instance.updatedAt)!) (version \(instance.version))")
                lines.append("data:       \(instance.data)")
            } else {
                lines.append("saga \(id) · no instance: only the timeline below (replies for an instance that does not exist)")
            }
            lines.append("")
            lines.append("timeline:")
            let rows = timeline.map { entry in
                [SagaCommand.iso(entry.at)!, entry.step.map { "\($0 + 1)" + (SagaCommand.stepName($0, of: saga).map { " \($0)" } ?? "") } ?? "-",
                 entry.kind, entry.commandID ?? "-", entry.type ?? "-", entry.detail ?? ""]
            }
            let widths = (0..<5).map { column in rows.map { $0[column].count }.max() ?? 0 }
            for row in rows {
                let padded = (0..<5).map { row[$0].padding(toLength: widths[$0], withPad: " ", startingAt: 0) } + [row[5]]
                lines.append(("  " + padded.joined(separator: "  ")).replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression))
            }
            return lines
        }

        static func json(_ instance: SagaInstanceRecord?, _ timeline: [SagaLogEntry], id: String, saga: String) throws -> String {
            var object: [String: Any] = ["id": id, "saga": saga]
            if let instance {
                var fields: [String: Any] = [
                    "state": instance.state.rawValue, "step": instance.step + 1, "completed_steps": instance.completedSteps,
                    "attempt": instance.attempt, "version": instance.version,
                    "started_at": SagaCommand.iso(instance.startedAt)!, "updated_at": SagaCommand.iso(instance.updatedAt)!,
                    "awaiting": instance.awaiting ?? NSNull(), "deadline": SagaCommand.iso(instance.deadline) ?? NSNull(),
                    "reason": instance.reason ?? NSNull(), "step_name": SagaCommand.stepName(instance.step, of: saga) ?? NSNull(),
                ]
                fields["data"] = (try? JSONSerialization.jsonObject(with: Data(instance.data.utf8), options: [.fragmentsAllowed])) ?? instance.data
                object["instance"] = fields
            } else {
                object["instance"] = NSNull()
            }
            object["timeline"] = timeline.map { entry -> [String: Any] in
                ["seq": entry.seq, "at": SagaCommand.iso(entry.at)!, "step": entry.step.map { $0 + 1 } ?? NSNull(),
                 "step_name": SagaCommand.stepName(entry.step, of: saga) ?? NSNull(), "kind": entry.kind,
                 "command_id": entry.commandID ?? NSNull(), "type": entry.type ?? NSNull(), "detail": entry.detail ?? NSNull()]
            }
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
            return String(decoding: data, as: UTF8.self)
        }
    }
}
