import ArgumentParser
import Foundation
import Logging

/// How a log line is written: `text` (swift-log's stream format) or `json` (one object per line).
public enum LogFormat: String, CaseIterable, Sendable, ExpressibleByArgument {
    case text, json
}

/// The command line's logging backend: standard error, in the format and at the level the
/// environment asks (`RUNNEL_LOG_FORMAT`, `RUNNEL_LOG_LEVEL`), which a command may change
/// before it makes its loggers (`runnel up --log-format json` logs at `info` unless told).
///
/// The executable owns the backend, never the library: ``RunnelCommand/main(catalog:commands:)``
/// bootstraps it once.
enum CLILogging {
    struct Settings: Sendable {
        var format: LogFormat
        var level: Logger.Level
        /// Whether the level came from `RUNNEL_LOG_LEVEL`, which a command's default never overrides.
        var levelFromEnvironment: Bool
    }

    // NSLock rather than a Mutex: the settings are read once per logger made, and a pthread
    // lock is one ThreadSanitizer sees.
    private static let lock = NSLock()
    private static let writeLock = NSLock()
    nonisolated(unsafe) private static var current = Settings(format: .text, level: .warning, levelFromEnvironment: false)

    static var settings: Settings { lock.withLock { current } }

    /// Installs the backend, reading the environment.
    static func bootstrap(environment: [String: String] = ProcessInfo.processInfo.environment) {
        let level = environment["RUNNEL_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:))
        let format = environment["RUNNEL_LOG_FORMAT"].flatMap(LogFormat.init(rawValue:)) ?? .text
        lock.withLock { current = Settings(format: format, level: level ?? .warning, levelFromEnvironment: level != nil) }
        LoggingSystem.bootstrap(makeHandler)
    }

    /// Sets the format, and the level unless `RUNNEL_LOG_LEVEL` set it; loggers made from now on follow.
    static func use(format: LogFormat?, defaultLevel: Logger.Level) {
        lock.withLock {
            if let format { current.format = format }
            if !current.levelFromEnvironment { current.level = defaultLevel }
        }
    }

    static func makeHandler(label: String) -> any LogHandler {
        let settings = settings
        switch settings.format {
        case .json:
            var handler = JSONLogHandler(label: label) { line in
                // One writer at a time: a long line written by two threads at once could interleave.
                writeLock.withLock { FileHandle.standardError.write(Data(line.utf8)) }
            }
            handler.logLevel = settings.level
            return handler
        case .text:
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = settings.level
            return handler
        }
    }
}

extension Console {
    /// A console whose lines become log events of `logger`: results at `info`, notes (progress,
    /// warnings) at `notice`, for commands whose standard error is a stream of JSON log lines.
    static func logging(to logger: Logger) -> Console {
        Console(output: { logger.info("\(Self.trimmed($0))") }, error: { logger.notice("\(Self.trimmed($0))") })
    }

    private static func trimmed(_ line: String) -> String {
        line.hasSuffix("\n") ? String(line.dropLast()) : line
    }
}
