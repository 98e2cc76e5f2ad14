import Foundation
import GRDB
@testable import Runnel
import Testing

/// SQLite failures become errors that name the database (or, as the command line's last resort,
/// say that one of the home's databases failed) and what to do next.
@Suite struct DatabaseFailureMessageTests {
    @Test func aFullDiskNamesTheFileTheRollbackAndTheNextStep() {
        let error = RunnelError.database(DatabaseError(resultCode: .SQLITE_FULL), path: "/h/app.sqlite", during: "loading lines 1–500 of x.jsonl")
        #expect(error.code == .database)
        #expect(error.message.hasPrefix("the disk holding /h/app.sqlite is full: loading lines 1–500 of x.jsonl was rolled back"))
        #expect(error.hint?.contains("Free space in /h") == true)
    }

    @Test func aDamagedDerivedDatabaseIsRebuiltAndADamagedAppDatabaseIsRestored() {
        let derived = RunnelError.database(DatabaseError(resultCode: .SQLITE_CORRUPT), path: "/h/derived.sqlite", during: "opening derived.sqlite")
        #expect(derived.hint?.contains("mv /h/derived.sqlite /h/derived.sqlite.damaged") == true)
        #expect(derived.hint?.contains("runnel run --all") == true)
        let app = RunnelError.database(DatabaseError(resultCode: .SQLITE_NOTADB), path: "/h/app.sqlite", during: "opening app.sqlite")
        #expect(app.hint?.contains("cannot be rebuilt") == true)
    }

    @Test func aFailureThatReachesTheCommandLineUnnamedStillSaysWhatToDo() {
        let full = RunnelError.database(DatabaseError(resultCode: .SQLITE_FULL), during: "running `runnel sample load`")
        #expect(full.message.hasPrefix("the disk holding a database of the Runnel home is full: running `runnel sample load` was rolled back"))
        #expect(full.hint?.contains("Free space") == true)
        let damaged = RunnelError.database(DatabaseError(resultCode: .SQLITE_CORRUPT), during: "running `runnel run --all`")
        #expect(damaged.hint?.contains("runnel inspect tables --db derived") == true)
        let other = RunnelError.database(DatabaseError(resultCode: .SQLITE_ERROR, message: "no such table: x"), during: "running `runnel x`")
        #expect(other.hint?.contains("RUNNEL_LOG_LEVEL=debug") == true)
    }

    @Test func onlyFailuresOfTheDatabaseItselfAreReportedAsSuch() {
        #expect(DatabaseError(resultCode: .SQLITE_FULL).isFailureOfTheDatabase)
        #expect(DatabaseError(resultCode: .SQLITE_CORRUPT).isFailureOfTheDatabase)
        #expect(!DatabaseError(resultCode: .SQLITE_CONSTRAINT).isFailureOfTheDatabase)
        #expect(!DatabaseError(resultCode: .SQLITE_ERROR).isFailureOfTheDatabase)
    }
}
