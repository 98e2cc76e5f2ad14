import ArgumentParser
import Foundation
import Runnel

/// `--home DIR`, shared by every command; an application's own commands take it with
/// `@OptionGroup var home: HomeOptions`.
public struct HomeOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The Runnel home folder (default: $RUNNEL_HOME, else ./.runnel).", valueName: "dir"))
    public var home: String?

    public init() {}

    /// The home the option names, or the default.
    public var resolved: RunnelHome { RunnelHome.resolve(home) }

    /// `--home DIR` to repeat in hints, or nothing when the default applies.
    var hintFlag: String { home.map { " --home \($0)" } ?? "" }
}

/// `--db app|derived`.
struct DatabaseOptions: ParsableArguments {
    @Option(name: .long, help: "Which database: app (business tables, outbox) or derived (read views, pipeline state).")
    var db: DatabaseRole = .app
}

/// `--format table|json|csv`.
struct FormatOptions: ParsableArguments {
    @Option(name: .long, help: "Output format: table, json (one object per line) or csv.")
    var format: OutputFormat = .table
}

extension DatabaseRole: ExpressibleByArgument {}

/// How rows are printed.
enum OutputFormat: String, CaseIterable, ExpressibleByArgument, Sendable {
    case table, json, csv
}

/// `--migrations DIR`, resolved against the catalog's default.
struct MigrationsOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Folder of NNNN_name.sql business migrations (default: the ones built into the program).", valueName: "dir"))
    var migrations: String?

    func resolved(_ catalog: Catalog) throws -> Migrations {
        if let migrations {
            return .folder(URL(fileURLWithPath: (migrations as NSString).expandingTildeInPath, isDirectory: true))
        }
        guard let builtIn = catalog.migrations else {
            throw RunnelError(.invalidArgument, "the \(catalog.name) catalog has no migrations", hint: "Pass --migrations DIR")
        }
        return builtIn
    }
}

/// `--bootstrap-servers` and `--kafka-property`, for the commands that reach Kafka.
struct KafkaOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Kafka brokers to start from, HOST:PORT[,HOST:PORT…] (with --to kafka or --from kafka).", valueName: "servers"))
    var bootstrapServers: String?
    @Option(name: .customLong("kafka-property"),
            help: ArgumentHelp("A librdkafka property for the Kafka clients (security.protocol=SSL, sasl.mechanisms=…); repeatable.", valueName: "key=value"))
    var kafkaProperties: [String] = []
    @Option(help: ArgumentHelp("How long a Kafka request, or a produced record's acknowledgement, may take (default 30).", valueName: "seconds"))
    var kafkaTimeout: Int?

    /// The settings: the options, or the catalog's (``Catalog/kafka``) for what they leave
    /// out; refusing what is missing or malformed.
    func settings(for flag: String) throws -> KafkaSettings {
        let configured = CLIContext.current.catalog.kafka
        guard let bootstrapServers = bootstrapServers ?? configured?.bootstrapServers else {
            throw ValidationError("\(flag) needs --bootstrap-servers HOST:PORT, the address of one or more brokers (or the catalog's kafka settings)")
        }
        let timeout = kafkaTimeout.map { Duration.seconds($0) } ?? configured?.requestTimeout ?? .seconds(30)
        guard timeout > .zero else { throw ValidationError("--kafka-timeout must be positive") }
        var properties = configured?.properties ?? [:]
        for property in kafkaProperties {
            guard let equals = property.firstIndex(of: "="), equals != property.startIndex else {
                throw ValidationError("--kafka-property takes KEY=VALUE, not \(property)")
            }
            properties[String(property[..<equals])] = String(property[property.index(after: equals)...])
        }
        let settings = KafkaSettings(bootstrapServers: bootstrapServers, properties: properties,
                                     requestTimeout: timeout,
                                     deliveryTimeout: kafkaTimeout.map { Duration.seconds($0) } ?? configured?.deliveryTimeout ?? .seconds(30))
        do {
            try settings.validate()
        } catch let error as RunnelError {
            throw ValidationError(error.message + (error.hint.map { ". \($0)" } ?? ""))
        }
        return settings
    }

    /// Refuses Kafka options given without `--to kafka` / `--from kafka`, which would be ignored.
    func refuseUnused(_ flag: String) throws {
        if bootstrapServers != nil || !kafkaProperties.isEmpty || kafkaTimeout != nil {
            throw ValidationError("--bootstrap-servers, --kafka-property and --kafka-timeout go with \(flag)")
        }
    }

    /// The executable's Kafka client.
    static func connector() throws -> any KafkaConnector {
        guard let kafka = CLIContext.current.kafka else {
            throw RunnelError(.invalidArgument, "this build of \(CLIContext.current.programName) has no Kafka client",
                              hint: "Build it with RunnelKafka: depend on the RunnelKafka product and pass `kafka: LibrdkafkaConnector()` to RunnelCommand.main")
        }
        return kafka
    }
}

/// Where `relay` writes and `run` reads: the home's log or a Kafka cluster.
enum LogPlace: String, ExpressibleByArgument, CaseIterable {
    case log, kafka
}
