import ArgumentParser
import Foundation
import NNTrain

/// The `nntrain` root command: subcommands, version, and the one-line error policy.
@main
struct NNTrainCommand: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "nntrain",
            abstract: "Train multilayer perceptrons on the CPU from a YAML config file.",
            discussion: "Exit status: 0 success, 64 bad usage, 65 malformed data, 66 missing input, "
                + "70 internal error, 73 cannot write output (or it holds a run: --resume or --force), 75 run directory in use, "
                + "78 invalid config, 80 diverged, 130 interrupted.",
            version: versionText,
            subcommands: [RunCommand.self, EvalCommand.self, InspectCommand.self, LRFindCommand.self, PlotCommand.self, DataCommand.self,
                          ConfigCommand.self])
    }

    /// `nntrain --version`: the version and the OpenBLAS kernel and thread count in use.
    static var versionText: String {
        "nntrain \(NNTrainVersion.string) (OpenBLAS kernel \(BLAS.kernelName), \(BLAS.threadCount) threads)"
    }

    /// Runs the command line. Errors print as one line on standard error — `error: <what, where,
    /// what would be right>` — and set the exit status of their kind (see NNTrainError).
    static func main() {
        BLASKernelSelection.relaunchOnFastestKernelIfNeeded()
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let code as ExitCode {  // a subcommand that has said what happened (an interrupted run)
            Foundation.exit(code.rawValue)
        } catch let error as NNTrainError {
            Terminal.printError(error.message)
            Foundation.exit(error.exitStatus)
        } catch {
            let code = exitCode(for: error)
            guard code != .success else { exit(withError: error) }  // --help and --version print here
            Terminal.printError("\(message(for: error)) (see 'nntrain --help')")
            Foundation.exit(code.rawValue)
        }
    }
}

/// Output helpers shared by the subcommands.
enum Terminal {
    static func printError(_ message: String) {
        printLine("error: \(message)")
    }

    static func printWarning(_ message: String) {
        printLine("warning: \(message)")
    }

    /// One line on standard error.
    static func printLine(_ line: String) {
        FileHandle.standardError.write(Data("\(line)\n".utf8))
    }

    static var standardOutputIsTerminal: Bool { isatty(STDOUT_FILENO) == 1 }
}
