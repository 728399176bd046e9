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
            subcommands: [RunCommand.self, EvalCommand.self, PredictCommand.self, InspectCommand.self, ExportCommand.self,
                          LRFindCommand.self, SweepCommand.self, CrossValidationCommand.self, PlotCommand.self, DataCommand.self,
                          ConfigCommand.self])
    }

    /// `nntrain --version`: the version and the OpenBLAS kernel and thread count in use.
    static var versionText: String {
        "nntrain \(NNTrainVersion.string) (OpenBLAS kernel \(BLAS.kernelName), \(BLAS.threadCount) threads)"
    }

    /// Runs the command line. Errors print as one line on standard error — `error: <what, where,
    /// what would be right>` — and set the exit status of their kind (see NNTrainError); every
    /// usage error (64) points to the help of the subcommand it was made in (`see 'nntrain run --help'`).
    static func main() {
        BLASKernelSelection.relaunchOnFastestKernelIfNeeded()
        let arguments = Array(CommandLine.arguments.dropFirst())
        do {
            try checkHelpRequest(arguments)
            var command = try parseAsRoot(arguments)
            try checkSubcommandGiven(command)
            try command.run()
        } catch let code as ExitCode {  // a subcommand that has said what happened (an interrupted run)
            Foundation.exit(code.rawValue)
        } catch let error as NNTrainError {
            Terminal.printError(error.kind == .usage ? "\(error.message) \(helpPointer(arguments))" : error.message)
            Foundation.exit(error.exitStatus)
        } catch {
            let code = exitCode(for: error)
            guard code != .success else { exit(withError: error) }  // --help and --version print here
            Terminal.printError("\(message(for: error)) \(helpPointer(arguments))")
            Foundation.exit(code.rawValue)
        }
    }

    /// `(see 'nntrain eval --help')`: where a usage error made in `arguments` is explained.
    static func helpPointer(_ arguments: [String]) -> String {
        "(see '\(commandPath(arguments).names.joined(separator: " ")) --help')"
    }

    /// The subcommands named at the start of `arguments`, after a `help`, from the root down
    /// (`nntrain data bonus` in `data bonus --rows 3`), the innermost one's type, and the words
    /// after them.
    static func commandPath(_ arguments: [String]) -> (names: [String], command: ParsableCommand.Type, rest: ArraySlice<String>) {
        var names = [_commandName]
        var command: ParsableCommand.Type = Self.self
        var rest = arguments.first == "help" ? arguments.dropFirst() : arguments[...]
        while let word = rest.first, let next = command.configuration.subcommands.first(where: { $0._commandName == word }) {
            names.append(word)
            command = next
            rest = rest.dropFirst()
        }
        return (names, command, rest)
    }

    /// `nntrain help SUBCOMMAND...` for a subcommand that does not exist is a usage error, as
    /// `nntrain nope` is (swift-argument-parser would print the root's help and exit 0).
    static func checkHelpRequest(_ arguments: [String]) throws {
        guard arguments.first == "help" else { return }
        let path = commandPath(arguments)
        guard let word = path.rest.first(where: { !$0.hasPrefix("-") }) else { return }
        throw ValidationError("Unknown subcommand '\(word)'; expected one of: \(subcommandNames(of: path.command))")
    }

    /// A command that only groups subcommands (`nntrain`, `nntrain data`) given none is a usage
    /// error (swift-argument-parser would print its help and exit 0).
    static func checkSubcommandGiven(_ command: ParsableCommand) throws {
        let type = type(of: command)
        guard !type.configuration.subcommands.isEmpty else { return }
        throw ValidationError("Missing subcommand; expected one of: \(subcommandNames(of: type))")
    }

    /// `run, eval, lr-find, ...`: the subcommands of `command`, in the order its help lists them.
    static func subcommandNames(of command: ParsableCommand.Type) -> String {
        command.configuration.subcommands.map { $0._commandName }.joined(separator: ", ")
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

/// What the shell completes for each kind of argument (`nntrain --generate-completion-script`):
/// files of the right extensions (and folders, to walk into), folders, or the config keys.
extension CompletionKind {
    /// A config file: the extensions the README's configs use (configs/*.txt) and YAML's own.
    static var configFile: CompletionKind { .file(extensions: ["yaml", "yml", "txt"]) }

    /// `--set`'s keys, each as `section.key=` ready for its value (`--set optim<TAB>` gives
    /// `optimizer.`), from the config's key table.
    static var configKeys: CompletionKind { .list(Configuration.keyNames.map { $0 + "=" }) }

    /// A checkpoint written by nntrain run.
    static var checkpointFile: CompletionKind { .file(extensions: ["bin"]) }

    /// A CSV file to read or write; folders are offered too, so `eval --data` completes a bonus
    /// CSV or a Fashion-MNIST folder.
    static var csvFile: CompletionKind { .file(extensions: ["csv"]) }

    /// An SVG picture to write.
    static var svgFile: CompletionKind { .file(extensions: ["svg"]) }
}
