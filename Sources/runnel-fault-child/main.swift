import Foundation
import Pipelines
import Runnel
import RunnelCLI
import RunnelKafka
import RunnelTesting

// `runnel` with the crash tests' fault pauses installed (see `FaultPauses`): a test-only
// executable, so the `runnel` that users run never reads fault-injection variables.
do {
    try FaultPauses.install()
} catch {
    FileHandle.standardError.write(Data("runnel-fault-child: \(error)\n".utf8))
    exit(2)
}

// The sample catalog plus one probe schedule, every minute, whose job records each execution
// (which fire time, which process, when) in `schedule_probe`: the schedule crash tests count
// executions there, independently of the history the scheduler keeps.
var catalog = SampleCatalog.catalog
catalog.schedules.append(Schedule("probe-every-minute", cron: "* * * * *", missed: .runAll(max: 1_000), overlap: .queue, job: .run("record the execution") { run in
    try run.store.app.write { db in
        try db.execute(sql: "CREATE TABLE IF NOT EXISTS schedule_probe (entry TEXT NOT NULL, fire_time INTEGER NOT NULL, attempt INTEGER NOT NULL, pid INTEGER NOT NULL, at INTEGER NOT NULL)")
        try db.execute(sql: "INSERT INTO schedule_probe VALUES (?, ?, ?, ?, ?)",
                       arguments: [run.entry, run.fireTime.millisecondsSince1970, run.attempt, Int(getpid()), Date().millisecondsSince1970])
    }
}))
// And a pipeline that fails every batch until the test creates its table (`PoisonProbe`).
catalog.pipelines.append(PoisonProbe.pipeline)
await RunnelCommand.main(catalog: catalog, kafka: LibrdkafkaConnector())
