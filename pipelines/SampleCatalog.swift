import Foundation
import Runnel

/// The catalog of the sample professional network: its business migrations, its data set, its
/// pipelines, its schedules, and its sagas with their handlers. `Sources/runnel/main.swift` hands it to the command line.
public enum SampleCatalog {
    /// The catalog.
    public static var catalog: Catalog {
        Catalog(
            name: "sample professional network",
            migrations: migrations,
            sampleData: NetworkDataSet(),
            pipelines: SamplePipelines.all,
            eventTypes: eventTypes,
            schedules: schedules,
            tickets: tickets,
            handlers: SampleHandlers.all,
            sagas: sagas)
    }

    /// The frames that are the network's own code: the services are Java, in `com.example.…`.
    /// The generator writes its stack traces with these, and the tickets fingerprint with them.
    public static let inAppPrefixes = ["com.example."]

    /// Exception tickets over `service-exceptions`: one per service and fingerprint, owned by
    /// whoever `service_owners` names for the service (nobody, for a service that lost its row).
    public static let tickets = ExceptionTickets(topic: NetworkTopic.serviceExceptions, inAppPrefixes: inAppPrefixes) {
        Source(NetworkTopic.serviceExceptions, as: ExceptionLogged.self, time: \.occurredAt)
            .enrich(from: ServiceOwnerRow.table, on: \.service, ifMissing: .substitute(.unowned)) { exception, owner in
                ExceptionOccurrence(service: exception.service, host: exception.host, level: exception.level,
                                    exceptionType: exception.exceptionType, message: exception.message,
                                    stackTrace: exception.stackTrace, occurredAt: exception.occurredAt,
                                    version: exception.serviceVersion, owners: owner.owners)
            }
    }

    /// The id of the ticket an exception of `service` belongs to, as the tickets pipeline
    /// computes it: for resolving a ticket before the pipeline has run.
    public static func ticketID(service: String, type: String, message: String, stackTrace: String) -> String {
        let fingerprint = Fingerprinter(inAppPrefixes: inAppPrefixes).fingerprint(type: type, message: message, stackTrace: stackTrace)
        return ExceptionTickets.ticketID(service: service, fingerprint: fingerprint.id)
    }

    /// Every pipeline, the tickets' too, every 5 minutes (one catch-up run after downtime), the
    /// exception report of the hour before at 5 past each hour (every missed hour's after
    /// downtime, up to two days), and log retention nightly, Berlin time.
    public static var schedules: [Schedule] {
        [
            Schedule("pipelines-every-5m", cron: "*/5 * * * *", missed: .runOnce, job: .pipelines(SamplePipelines.all.map(\.name) + [tickets.pipelineName])),
            Schedule("exception-report-hourly", cron: "5 * * * *", missed: .runAll(max: 48), job: .exceptionReport),
            Schedule("log-retention-nightly", cron: "30 3 * * *", timeZone: "Europe/Berlin", missed: .runOnce, job: .logRetention),
        ]
    }

    /// The event types the network's operations write to the outbox: every pipeline source
    /// must read one of them (or one a pipeline writes), which catches a misspelt type string.
    public static let eventTypes: Set<String> = [
        "MemberJoined", "HeadlineUpdated", "InvitationSent", "InvitationAccepted", "InvitationDeclined", "ConnectionMade",
        "ActivityRecorded", "ProfileViewed", "ServiceOwnerAssigned", "ExceptionLogged", "HostMetricRecorded",
        "PremiumUpgradeRequested",
    ]

    /// The sagas: an invitation's delivery (notification, email, analytics), and a premium
    /// upgrade's payment, entitlement and receipt. ``SampleHandlers`` carry out their steps.
    public static var sagas: [Saga] { [ConnectionInvitationSaga.saga, PremiumUpgradeSaga.saga] }

    /// The files of `migrations/`, compiled into the build (`embedInCode` in `Package.swift`), so
    /// a `runnel` copied anywhere migrates without the checkout. SwiftPM names each resource
    /// after its file, with a leading digit replaced by `_`.
    public static let migrations = Migrations.embedded([
        "0001_members.sql": PackageResources._001_members_sql,
        "0002_connections.sql": PackageResources._002_connections_sql,
        "0003_activity.sql": PackageResources._003_activity_sql,
        "0004_operations.sql": PackageResources._004_operations_sql,
        "0005_service_versions.sql": PackageResources._005_service_versions_sql,
        "0006_sagas.sql": PackageResources._006_sagas_sql,
    ])

    /// The checkout this target was built from, where `sample-data/network.jsonl` is committed:
    /// for the tests that compare it with the generator. Nothing the program runs reads it.
    package static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    }
}
