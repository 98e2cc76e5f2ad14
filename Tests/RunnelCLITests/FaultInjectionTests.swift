import Foundation
import Runnel
import RunnelTesting
import Testing

/// Fault pauses live behind a test-only hook: the `runnel` users run ignores the variables, and
/// only `runnel-fault-child`, the crash tests' twin of it, pauses and announces.
@Suite struct FaultInjectionTests {
    private func relay(_ executable: URL, home: TemporaryHome) throws -> (status: Int32, errors: String, seconds: Double) {
        let store = try home.openStore()
        _ = try store.app.write { db in
            try store.outbox.append(OutboxEvent(topic: "faults", key: "1", type: "Probe", payload: ["n": 1], eventTime: Date()), in: db)
        }
        let errors = Pipe()
        let started = Date()
        let process = try ChildProcess.launch(["relay", "--home", home.home.url.path], executable: executable,
                                              environment: ["RUNNEL_FAULT_RELAY_PAUSE_US": "1500000"], standardError: errors)
        let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, text, Date().timeIntervalSince(started))
    }

    @Test func theRunnelExecutableNeverReadsTheFaultVariables() throws {
        let home = try TemporaryHome(label: "fault-runnel")
        let run = try relay(ChildProcess.runnel, home: home)
        #expect(run.status == 0, "\(run.errors)")
        #expect(!run.errors.contains("runnel-fault"), "\(run.errors)")
        #expect(run.seconds < 1.5, "runnel paused \(run.seconds) s")
    }

    @Test func theTestChildPausesWhereTheVariableSaysAndAnnouncesIt() throws {
        let home = try TemporaryHome(label: "fault-child")
        let run = try relay(ChildProcess.faultChild, home: home)
        #expect(run.status == 0, "\(run.errors)")
        #expect(run.errors.contains(FaultPauses.pausingLine("relay-after-append-before-delete")), "\(run.errors)")
        #expect(run.errors.contains(FaultPauses.resumedLine("relay-after-append-before-delete")), "\(run.errors)")
        #expect(run.seconds >= 1.5)
    }
}
