// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "Runnel",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Runnel", targets: ["Runnel"]),
        .library(name: "RunnelTesting", targets: ["RunnelTesting"]),
        .library(name: "RunnelServer", targets: ["RunnelServer"]),
        .library(name: "RunnelCLI", targets: ["RunnelCLI"]),
        // Relaying into, mirroring into and reading from Apache Kafka, through librdkafka: a
        // product of its own, so an application that never needs Kafka never links it.
        .library(name: "RunnelKafka", targets: ["RunnelKafka"]),
        .executable(name: "runnel", targets: ["runnel"]),
        .executable(name: "runnel-bench", targets: ["runnel-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
        // Ticket notifications' webhook channel.
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        // The dashboard and the metrics endpoint (`runnel serve`, `runnel up`).
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        // NIOThreadPool, where the dashboard's database and file reads run.
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        // The Prometheus backend of swift-metrics, bootstrapped by the CLI only.
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        // `swift package generate-documentation --target Runnel` builds the DocC catalog.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        // CRC-32C with the CPU instruction (SSE4.2 / ARMv8 CRC), which Swift cannot reach.
        .target(name: "CRunnelChecksum"),
        // The bytes glibc's allocator has in use, for runnel-bench's memory scenario.
        .target(name: "CRunnelBenchHeap"),
        .target(
            name: "Runnel",
            dependencies: [
                "CRunnelChecksum",
                .product(name: "GRDB", package: "GRDB.swift"),
                // The SQLite C API, for the relay's read of pending rows straight from column buffers.
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),
        // librdkafka (and its mock cluster), found with pkg-config.
        .systemLibrary(
            name: "CRdKafka",
            pkgConfig: "rdkafka",
            providers: [.apt(["librdkafka-dev"]), .brew(["librdkafka"])]
        ),
        .target(
            name: "RunnelKafka",
            dependencies: [
                "Runnel",
                "CRdKafka",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // A librdkafka mock cluster in a process of its own, for tests and benchmarks: prints its
        // bootstrap servers, takes commands (topics, injected errors, brokers down and up) on
        // standard input, and stays up until killed.
        .executableTarget(name: "runnel-kafka-mock", dependencies: ["CRdKafka"]),
        .target(
            name: "RunnelTesting",
            dependencies: ["Runnel", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        // The read-only dashboard, its JSON API and `/metrics`, served by Hummingbird.
        .target(
            name: "RunnelServer",
            dependencies: [
                "Runnel",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            // Compiled in, so a `runnel` copied elsewhere serves its pages without the checkout.
            resources: [.embedInCode("Templates")]
        ),
        .target(
            name: "RunnelCLI",
            dependencies: [
                "Runnel",
                "RunnelServer",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // The sample application. Its migrations are compiled in (`PackageResources`), so a
        // `runnel` copied elsewhere runs `demo` without the checkout.
        .target(
            name: "Pipelines",
            dependencies: ["Runnel", .product(name: "GRDB", package: "GRDB.swift")],
            path: ".",
            exclude: ["Sources", "Tests", "Examples", "docs", "sample-data", "README.md"],
            sources: ["pipelines"],
            resources: [.embedInCode("migrations")]
        ),
        .executableTarget(
            name: "runnel",
            dependencies: ["RunnelCLI", "RunnelKafka", "Pipelines"]
        ),
        // `runnel` with fault pauses for crash tests; built for the tests, not a product.
        .executableTarget(
            name: "runnel-fault-child",
            dependencies: ["RunnelCLI", "RunnelKafka", "Pipelines", "RunnelTesting", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        .executableTarget(
            name: "runnel-bench",
            dependencies: [
                "Runnel",
                "CRunnelBenchHeap",
                "Pipelines",
                "RunnelTesting",
                .product(name: "GRDB", package: "GRDB.swift"),
                // The KV baselines step SQLite's C API directly, as Runnel's FastStatement does.
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                // The dashboard scenario serves /api/status in-process and polls it over loopback.
                "RunnelServer",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                // The kafka-relay scenario relays into a mock cluster started in-process.
                "RunnelKafka",
                "CRdKafka",
            ]
        ),
        .testTarget(name: "RunnelStoreTests", dependencies: ["Runnel", "RunnelTesting", .product(name: "GRDB", package: "GRDB.swift")]),
        .testTarget(name: "RunnelScheduleTests", dependencies: ["Runnel", "RunnelTesting", .product(name: "GRDB", package: "GRDB.swift"), .product(name: "Logging", package: "swift-log"), .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")]),
        // Depends on `runnel-fault-child` so the notification crash test can kill `notify` children between a send and its commit.
        .testTarget(name: "RunnelTicketTests", dependencies: ["Runnel", "RunnelTesting", "RunnelCLI", "runnel-fault-child", .product(name: "GRDB", package: "GRDB.swift"),
                                                    .product(name: "Logging", package: "swift-log")]),
        .testTarget(
            name: "RunnelLogTests",
            dependencies: ["Runnel", "RunnelTesting", .product(name: "GRDB", package: "GRDB.swift")],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(name: "RunnelPipelineTests", dependencies: ["Runnel", "RunnelTesting", .product(name: "GRDB", package: "GRDB.swift")]),
        .testTarget(name: "RunnelSagaTests", dependencies: ["Runnel", "RunnelTesting", .product(name: "GRDB", package: "GRDB.swift")]),
        .testTarget(name: "RunnelOutboxTests", dependencies: ["Runnel", "RunnelTesting", .product(name: "GRDB", package: "GRDB.swift")]),
        // Depends on `runnel-fault-child` so the build crash test can kill `runnel kv publish` children at a fault pause.
        .testTarget(name: "RunnelKVTests", dependencies: ["Runnel", "RunnelTesting", "runnel", "runnel-fault-child", .product(name: "GRDB", package: "GRDB.swift")]),
        .testTarget(name: "PipelinesTests", dependencies: ["Pipelines", "Runnel", "RunnelTesting", .product(name: "GRDB", package: "GRDB.swift")]),
        // Depend on the `runnel` executable (and its fault-pause twin) so tests can start it as a child process.
        .testTarget(name: "RunnelRelayTests", dependencies: ["Runnel", "RunnelTesting", "runnel", "runnel-fault-child", .product(name: "GRDB", package: "GRDB.swift")]),
        .testTarget(name: "RunnelServerTests", dependencies: ["RunnelServer", "RunnelCLI", "Pipelines", "Runnel", "RunnelTesting", "runnel",
                                                    .product(name: "GRDB", package: "GRDB.swift"),
                                                    .product(name: "HummingbirdTesting", package: "hummingbird")]),
        // Against librdkafka's mock cluster, run by `runnel-kafka-mock` in a process of its own, and
        // read back with kcat too; `runnel` children are killed mid-relay and mid-mirror.
        .testTarget(name: "RunnelKafkaTests", dependencies: ["RunnelKafka", "Runnel", "RunnelCLI", "RunnelTesting", "Pipelines", "runnel", "runnel-fault-child",
                                                   "runnel-kafka-mock", .product(name: "GRDB", package: "GRDB.swift")]),
        .testTarget(name: "RunnelCLITests", dependencies: ["RunnelCLI", "Pipelines", "Runnel", "RunnelTesting", "runnel", "runnel-fault-child", .product(name: "GRDB", package: "GRDB.swift"),
                                                 .product(name: "AsyncHTTPClient", package: "async-http-client")]),
    ]
)
