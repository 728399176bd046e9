/// Every failure nntrain reports to a person or a script: one line saying what was wrong, where
/// (file, line, key, byte offset), and what would be right, plus the kind that decides the exit status.
///
/// Exit statuses follow BSD `sysexits.h`, which shell scripts already know:
///
/// | kind          | status | meaning                                                      |
/// |---------------|--------|--------------------------------------------------------------|
/// | `usage`       | 64     | a bad command-line flag or argument (`EX_USAGE`)             |
/// | `data`        | 65     | a data or checkpoint file is malformed (`EX_DATAERR`)        |
/// | `missingFile` | 66     | an input file or folder does not exist or cannot be read (`EX_NOINPUT`) |
/// | `unavailable` | 69     | a program nntrain hands work to (sbatch) is missing or refused it (`EX_UNAVAILABLE`) |
/// | `internal`    | 70     | a bug in nntrain (`EX_SOFTWARE`)                             |
/// | `cannotWrite` | 73     | an output file or folder cannot be written, or a fresh run would overwrite one (`EX_CANTCREAT`) |
/// | `locked`      | 75     | another process is writing the run directory (`EX_TEMPFAIL`: try again later) |
/// | `config`      | 78     | the config file or a `--set` override is invalid (`EX_CONFIG`) |
/// | `diverged`    | 80     | the loss or a gradient became NaN or infinite                |
/// | `interrupted` | 130    | stopped by Ctrl-C or SIGTERM (128 + SIGINT)                  |
public struct NNTrainError: Error, Equatable, CustomStringConvertible, Sendable {
    public enum Kind: Int32, Sendable, CaseIterable {
        case usage = 64
        case data = 65
        case missingFile = 66
        case unavailable = 69
        case `internal` = 70
        case cannotWrite = 73
        case locked = 75
        case config = 78
        case diverged = 80
        case interrupted = 130
    }

    public var kind: Kind
    /// The whole one-line message, already naming the place.
    public var message: String

    /// `message` has its line breaks made spaces: names and values quoted from a malformed file
    /// (a tensor name, a CSV field, a file name) may hold them, and scripts read one line.
    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message.contains(where: \.isNewline) ? String(message.map { $0.isNewline ? " " : $0 }) : message
    }

    public var exitStatus: Int32 { kind.rawValue }
    public var description: String { message }

    // MARK: Shorthands that put the place first, as compilers do: `file:line: message`.

    /// `path: message`, for a malformed data file.
    public static func data(_ path: String, _ message: String) -> NNTrainError {
        NNTrainError(.data, "\(path): \(message)")
    }

    /// `path:line: message` (or `path: message` without a line), for an invalid config.
    public static func config(_ path: String, line: Int?, _ message: String) -> NNTrainError {
        if let line { return NNTrainError(.config, "\(path):\(line): \(message)") }
        return NNTrainError(.config, "\(path): \(message)")
    }

    /// `path: no such file or folder`, with what nntrain expected to find there.
    public static func missingFile(_ path: String, expected: String) -> NNTrainError {
        NNTrainError(.missingFile, "\(path): no such file or folder (expected \(expected))")
    }

    /// `path: cannot write: reason`.
    public static func cannotWrite(_ path: String, _ reason: String) -> NNTrainError {
        NNTrainError(.cannotWrite, "\(path): cannot write: \(reason)")
    }
}
