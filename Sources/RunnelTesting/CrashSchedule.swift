import Foundation
import Runnel

/// The seed and round count of a crash test, overridable so a failure can be replayed
/// (`RUNNEL_CRASH_SEED=N`) or a soak run made longer (`RUNNEL_CRASH_ROUNDS=N`).
package struct CrashSchedule: Sendable {
    /// The seed of this run; print it with every failure.
    package let seed: UInt64
    /// How many kill rounds to run.
    package let rounds: Int

    /// Reads the environment, falling back to the test's defaults.
    package init(defaultSeed: UInt64, defaultRounds: Int, environment: [String: String] = ProcessInfo.processInfo.environment) {
        seed = environment["RUNNEL_CRASH_SEED"].flatMap(UInt64.init) ?? defaultSeed
        rounds = environment["RUNNEL_CRASH_ROUNDS"].flatMap(Int.init) ?? defaultRounds
    }

    /// The generator for the kill moments and other random choices of the run.
    package var random: SeededGenerator { SeededGenerator(seed: seed) }
}
