import Foundation
import Testing

/// What `nntrain` says about its own use: a missing or unknown subcommand is a usage error (64), a
/// usage error points to the help of the subcommand it was made in, and `run --help` says what
/// --quiet prints, where every config key is listed and which environment variables count.
@Suite struct HelpAndUsageCommandTests {
    /// The subcommands `nntrain --help` lists, in its order, as the usage errors name them.
    static func subcommands(in directory: URL) throws -> String {
        let help = try CommandLineTests.run(["--help"], in: directory).standardOutput
        let section = try #require(help.components(separatedBy: "SUBCOMMANDS:\n").last)
        let names = section.split(separator: "\n").filter { $0.hasPrefix("  ") && !$0.hasPrefix("   ") }
            .compactMap { $0.split(separator: " ").first.map(String.init) }.filter { $0 != "See" }
        #expect(names == ["run", "eval", "predict", "inspect", "export", "lr-find", "sweep", "cv", "plot", "data", "config"])
        return names.joined(separator: ", ")
    }

    /// The help text with its line wrapping undone (every run of white space one space).
    static func unwrapped(_ text: String) -> String {
        text.split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }

    @Test func noSubcommandOrAnUnknownOneIsAUsageError() throws {
        let directory = try CommandLineTests.temporaryDirectory()
        let subcommands = try Self.subcommands(in: directory)
        let bare = try CommandLineTests.run([], in: directory)
        CommandLineTests.expectFailure(bare, status: 64, message: "Missing subcommand; expected one of: "
            + "\(subcommands) (see 'nntrain --help')")
        #expect(bare.standardOutput.isEmpty)
        let group = try CommandLineTests.run(["data"], in: directory)
        CommandLineTests.expectFailure(group, status: 64, message: "Missing subcommand; expected one of: bonus "
            + "(see 'nntrain data --help')")
        let unknown = try CommandLineTests.run(["help", "nope"], in: directory)
        CommandLineTests.expectFailure(unknown, status: 64, message: "Unknown subcommand 'nope'; expected one of: "
            + "\(subcommands) (see 'nntrain --help')")
        #expect(unknown.standardOutput.isEmpty)
        let nested = try CommandLineTests.run(["help", "data", "nope"], in: directory)
        CommandLineTests.expectFailure(nested, status: 64, message: "Unknown subcommand 'nope'; expected one of: bonus "
            + "(see 'nntrain data --help')")
        // Help that exists is still help.
        for arguments in [["help"], ["help", "run"], ["help", "data", "bonus"], ["--help"], ["run", "--help"]] {
            let help = try CommandLineTests.run(arguments, in: directory)
            #expect(help.status == 0 && help.standardError.isEmpty && help.standardOutput.contains("USAGE: nntrain"),
                    "\(arguments)")
        }
    }

    @Test func aUsageErrorPointsToItsSubcommandsHelp() throws {
        let directory = try CommandLineTests.temporaryDirectory()
        CommandLineTests.expectFailure(try CommandLineTests.run(["run", "x.txt", "--epochs", "3"], in: directory), status: 64,
                                       message: "Unknown option '--epochs' (see 'nntrain run --help')")
        CommandLineTests.expectFailure(try CommandLineTests.run(["data", "bonus", "--rows", "0"], in: directory), status: 64,
                                       message: "--rows must be between 1 and 10000000, got 0 (see 'nntrain data bonus --help')")
        CommandLineTests.expectFailure(try CommandLineTests.run(["plot"], in: directory), status: 64,
                                       message: "Missing expected argument '<run-dir>' (see 'nntrain plot --help')")
        CommandLineTests.expectFailure(try CommandLineTests.run(["nope"], in: directory), status: 64,
                                       message: "Unexpected argument 'nope' (see 'nntrain --help')")
    }

    @Test func runsHelpSaysWhatQuietPrintsWhereTheKeysAreAndWhichEnvironmentCounts() throws {
        let help = Self.unwrapped(
            try CommandLineTests.run(["run", "--help"], in: CommandLineTests.temporaryDirectory()).standardOutput)
        // The words of docs/usage.md for --quiet.
        #expect(help.contains("-q, --quiet Print nothing but errors, warnings and the one line that says an interruption "
            + "or time limit stopped training."))
        #expect(help.contains("'nntrain config --defaults' prints every config key with its default, "
            + "allowed values and meaning."))
        #expect(help.contains("NNTRAIN_THREADS=N computes on N threads"))
        #expect(help.contains("default: one per core"))
        #expect(help.contains("NNTRAIN_PORTABLE=1 is read when nntrain is built (make build, swift build), not when it runs"))
    }
}
