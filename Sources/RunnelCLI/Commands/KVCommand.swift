import ArgumentParser
import Foundation
import GRDB
import Runnel

/// `runnel kv …`: the derived key-value stores under `kv/`.
struct KVCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kv",
        abstract: "List, read, verify and roll back the derived key-value stores in kv/.",
        discussion: """
            A KV store is written by a pipeline ending in KVFile(…) and published as an immutable \
            version (kv/STORE/vN) when a run reaches the end of the log; CURRENT names the version \
            readers use. Keys given on the command line are text: integer keys are their decimal digits. \
            The format is in docs/kv-format.md.
            """,
        subcommands: [List.self, Get.self, Versions.self, Rollback.self, Verify.self, Publish.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the stores: current version, keys, size, when built and by which pipeline.")

        @OptionGroup var home: HomeOptions
        @OptionGroup var format: FormatOptions

        func run() throws {
            let context = CLIContext.current
            let stores = try KVStoreFolder.all(in: home.resolved)
            guard !stores.isEmpty || format.format != .table else {
                context.console.print("No KV stores in \(home.resolved.kvURL.path) yet. Run a pipeline that ends in KVFile(…), e.g. `\(CLIContext.current.programName) demo`\(home.hintFlag).")
                return
            }
            let rows: [[DatabaseValue]] = try stores.map { folder in
                let kept = try folder.versionNumbers()
                guard let current = try folder.currentVersion() else {
                    return [folder.name.databaseValue, DatabaseValue.null, KVCommand.describe(kept).databaseValue, DatabaseValue.null,
                            DatabaseValue.null, DatabaseValue.null, DatabaseValue.null]
                }
                let manifest = try folder.manifest(of: current)
                return [folder.name.databaseValue, current.databaseValue, KVCommand.describe(kept).databaseValue, manifest.keyCount.databaseValue,
                        manifest.fileSize.databaseValue, KVCommand.timestamp(manifest.builtAt).databaseValue, (manifest.pipeline ?? "").databaseValue]
            }
            RowPrinter(format: format.format, console: context.console)
                .print(columns: ["store", "current", "versions", "keys", "bytes", "built_at", "pipeline"], rows: rows)
        }
    }

    struct Get: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the value of one key in the current (or a given) version.",
            discussion: "Exits 1 when the key is absent. Text values print as they are, others as hex; --format json prints one object with the store, version, key and value.")

        enum ValueFormat: String, ExpressibleByArgument, CaseIterable {
            case text, json
        }

        @OptionGroup var home: HomeOptions
        @Argument(help: "The store.") var store: String
        @Argument(help: "The key, as text (an integer key is its decimal digits). Prefix with 0x to give bytes in hex.") var key: String
        @Option(name: .long, help: "text (the value itself) or json (an object with store, version, key and value).") var format: ValueFormat = .text
        @Option(name: .long, help: "Read this kept version instead of the current one.") var version: Int?

        func run() throws {
            let console = CLIContext.current.console
            let folder = try KVStoreFolder(home: home.resolved, name: store)
            let snapshot: KVSnapshot
            if let version {
                snapshot = try folder.open(version: version)
            } else {
                snapshot = try KVStore(folder: folder).snapshot()
            }
            let keyBytes = try KVCommand.parseKey(key)
            guard let value = try snapshot.get(keyBytes) else {
                throw RunnelError(.notFound, "key \(key) is not in KV store \(store) (version \(snapshot.version), \(snapshot.keyCount) keys)",
                                  hint: "Keys are compared as bytes: integer keys are their decimal digits")
            }
            switch format {
            case .text:
                console.print(String(validating: value, as: UTF8.self) ?? "0x" + value.map { String(format: "%02x", $0) }.joined())
            case .json:
                var object: [String: Any] = ["store": store, "version": snapshot.version]
                object["key"] = String(validating: keyBytes, as: UTF8.self) ?? "0x" + keyBytes.map { String(format: "%02x", $0) }.joined()
                if let parsed = try? JSONSerialization.jsonObject(with: Data(value), options: [.fragmentsAllowed]) {
                    object["value"] = parsed
                } else if let text = String(validating: value, as: UTF8.self) {
                    object["value"] = text
                } else {
                    object["value_base64"] = Data(value).base64EncodedString()
                }
                let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
                console.print(String(decoding: data, as: UTF8.self))
            }
        }
    }

    struct Versions: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List a store's kept versions with their manifests; * marks the current one.")

        @OptionGroup var home: HomeOptions
        @Argument(help: "The store.") var store: String
        @OptionGroup var format: FormatOptions

        func run() throws {
            let folder = try KVStoreFolder(home: home.resolved, name: store)
            let kept = try KVCommand.keptVersions(of: folder, home: home)
            let current = try folder.currentVersion()
            let rows: [[DatabaseValue]] = kept.reversed().map { number in
                let mark = (number == current ? "*" : "").databaseValue
                guard let manifest = try? folder.manifest(of: number) else {
                    return [number.databaseValue, mark, DatabaseValue.null, DatabaseValue.null, DatabaseValue.null,
                            "manifest unreadable: run `\(CLIContext.current.programName) kv verify \(store)`".databaseValue, DatabaseValue.null, DatabaseValue.null]
                }
                let pipeline = manifest.pipeline.map { "\($0) v\(manifest.pipelineVersion ?? 0)" } ?? ""
                let offsets = manifest.sourceOffsets.map { "\($0.topic)/\($0.partition)@\($0.nextOffset)" }.joined(separator: " ")
                return [number.databaseValue, mark, manifest.keyCount.databaseValue, manifest.fileSize.databaseValue,
                        KVCommand.timestamp(manifest.builtAt).databaseValue, pipeline.databaseValue, offsets.databaseValue,
                        String(manifest.sha256.prefix(16)).databaseValue]
            }
            RowPrinter(format: format.format, console: CLIContext.current.console, maximumCellWidth: 80)
                .print(columns: ["version", "current", "keys", "bytes", "built_at", "pipeline", "source_offsets", "sha256"], rows: rows)
        }
    }

    struct Rollback: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Serve an older kept version: the one before the current, or --to N.",
            discussion: "The target is verified completely first. Readers switch on their next refresh; the next publish builds a newer version again.")

        @OptionGroup var home: HomeOptions
        @Argument(help: "The store.") var store: String
        @Option(name: .long, help: "The version to serve (default: the newest one older than the current).") var to: Int?

        func run() throws {
            let folder = try KVStoreFolder(home: home.resolved, name: store)
            let (from, to) = try folder.rollback(to: to)
            let was = from.map { "v\($0)" } ?? "none"
            CLIContext.current.console.print(from == to ? "\(store) already serves v\(to)." : "\(store) now serves v\(to) (was \(was)).")
        }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check every kept version: every block's CRC-32C, the whole file's SHA-256, the index and the manifest.",
            discussion: "Exits 1 when any version is damaged or CURRENT names a version that is not there.")

        @OptionGroup var home: HomeOptions
        @Argument(help: "The store.") var store: String

        func run() throws {
            let console = CLIContext.current.console
            let folder = try KVStoreFolder(home: home.resolved, name: store)
            let kept = try KVCommand.keptVersions(of: folder, home: home)
            var damaged = 0
            var first: String?
            func found(_ problem: String) {
                damaged += 1
                first = first ?? problem
                console.print(problem)
            }
            var current: Int?
            do {
                current = try folder.currentVersion()
            } catch {
                found("CURRENT: \(error)")
            }
            if let current, !kept.contains(current) {
                found("CURRENT names v\(current), which is not there. Point it at a kept version with `\(CLIContext.current.programName) kv rollback \(store) --to N`.")
            }
            for number in kept {
                let mark = number == current ? " (current)" : ""
                do {
                    let snapshot = try folder.open(version: number, verification: .atOpen)
                    console.print("v\(number)\(mark): ok, \(snapshot.keyCount) keys, \(snapshot.manifest.fileSize) bytes, sha256 \(snapshot.manifest.sha256.prefix(16))…")
                } catch {
                    found("v\(number)\(mark): DAMAGED: \(error)")
                }
            }
            // Kept for `runnel status --check`, which reports damage without reading every block again.
            if home.resolved.isInitialized {
                try Verifications.record(Verifications.kvTarget(store), damaged: damaged, firstDamage: first, in: try Store.open(home.resolved))
            }
            if damaged > 0 {
                throw RunnelError(.corruptKV, "KV store \(store): \(damaged) problem\(damaged == 1 ? "" : "s") found",
                                  hint: "Roll back to a good version with `runnel kv rollback \(store) --to N`, or build a new one with `runnel kv publish \(store)`")
            }
        }
    }

    struct Publish: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Build a new version from what the store's pipeline has committed, and make it current.",
            discussion: "Runs publish by themselves when they reach the end of the log; this does it now, even when nothing changed.")

        @OptionGroup var home: HomeOptions
        @Argument(help: "The store.") var store: String

        func run() throws {
            let home = home.resolved
            guard home.isInitialized else {
                throw RunnelError(.home, "no Runnel home at \(home.url.path)", hint: "Run `runnel demo` or `runnel init` first")
            }
            let manifest = try KVPublisher.publish(store, from: try Store.open(home))
            guard let manifest else { return }
            CLIContext.current.console.print("\(store) v\(manifest.version): \(manifest.keyCount) keys, \(manifest.fileSize) bytes, built in \(manifest.buildMilliseconds) ms; now current.")
        }
    }

    // MARK: - Helpers

    /// The store's versions, oldest first.
    /// - Throws: ``RunnelError`` `.notFound` when it has none.
    static func keptVersions(of folder: KVStoreFolder, home: HomeOptions) throws -> [Int] {
        let kept = try folder.versionNumbers()
        guard !kept.isEmpty else {
            throw RunnelError(.notFound, "KV store \(folder.name) has no versions in \(folder.url.path)",
                              hint: "`runnel kv list\(home.hintFlag)` shows the stores there are")
        }
        return kept
    }

    static func describe(_ versions: [Int]) -> String {
        versions.map { "v\($0)" }.joined(separator: " ")
    }

    static func timestamp(_ date: Date) -> String {
        date.formatted(.iso8601)
    }

    /// A key from the command line: text, or bytes written `0x…` in hex.
    static func parseKey(_ text: String) throws -> [UInt8] {
        guard text.hasPrefix("0x"), text.count > 2 else { return Array(text.utf8) }
        let digits = Array(text.dropFirst(2))
        guard digits.count % 2 == 0 else {
            throw RunnelError(.invalidArgument, "the key \(text) has an odd number of hex digits", hint: "Write two hex digits per byte after 0x")
        }
        return try stride(from: 0, to: digits.count, by: 2).map { index in
            guard let byte = UInt8(String(digits[index...index + 1]), radix: 16) else {
                throw RunnelError(.invalidArgument, "the key \(text) is not hex after 0x", hint: "Write two hex digits per byte after 0x")
            }
            return byte
        }
    }
}
