import Foundation

/// The run directory as `nntrain run` claims it, before writing anything into it:
///
/// - one process at a time: `RUN_DIR/.lock` is held with flock(2) for as long as the run goes on
///   and holds the holder's PID, so a second `nntrain run` into the same directory is refused
///   naming that process. The kernel releases the lock when its process ends, however it ends
///   (SIGKILL included), so a lock file left by a dead process is simply taken over. The file
///   itself stays (deleting it would let two processes lock two different files of one name).
/// - no silent overwrite: a fresh run into a directory that already holds a run (metrics.csv,
///   summary.json or checkpoints/) is refused unless it resumes or `--force` clears that run's
///   files first (only nntrain's own: see `runFiles`; anything else in the folder stays). The
///   refusal names the config file that made the run (config.yaml's first line, `configHeader`).
/// - temporary files (`NAME.partial-PID`, see OutputFile) that a killed process left are deleted,
///   once their process is gone.
///
/// `nntrain eval` only reads, and `lr-find` and `plot` write files of their own (lr_find.csv,
/// lr_find.svg, curves.svg) whole through renames, so none of them takes the lock.
public final class RunDirectory {
    public let path: String
    private let lockDescriptor: Int32

    /// The files of a run that `--force` deletes, relative to the run directory, besides the
    /// checkpoints (`checkpointFiles`). lr-find's files are not a run's and stay.
    static let runFiles = ["config.yaml", "metrics.csv", "steps.csv", "summary.json", "curves.svg"]
    /// Any of these means the directory holds a run.
    static let runMarkers = ["metrics.csv", "summary.json", "checkpoints"]

    public var lockPath: String { Self.lockPath(path) }
    static func lockPath(_ directory: String) -> String { directory + "/.lock" }

    /// Creates the directory if needed and takes its lock; refuses (`.locked`) when another
    /// process holds it.
    public init(claiming path: String) throws(NNTrainError) {
        do { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) } catch {
            throw NNTrainError.cannotWrite(path, "cannot create the run directory (\(error.localizedDescription))")
        }
        let lockPath = Self.lockPath(path)
        let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .cannotWrite(lockPath, String(cString: strerror(errno))) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let code = errno
            var holder = [UInt8](repeating: 0, count: 32)
            let count = holder.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
            close(fd)
            guard code == EWOULDBLOCK else { throw .cannotWrite(lockPath, "cannot lock: \(String(cString: strerror(code)))") }
            let pid = count > 0 ? Int32(String(decoding: holder.prefix(count), as: UTF8.self)
                .trimmingCharacters(in: .whitespacesAndNewlines)) : nil
            throw NNTrainError(.locked, "\(path) is in use by " + (pid.map { "process \($0)" } ?? "another process")
                + " (it holds \(lockPath)); expected one nntrain run per run directory: wait for it to end, "
                + "or set another output.dir")
        }
        // The PID is for the refusal's message only: the lock holds without it (on a full disk, say).
        let pid = Array("\(getpid())\n".utf8)
        if ftruncate(fd, 0) == 0 { _ = pid.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) } }
        self.path = path
        lockDescriptor = fd
    }

    /// Releases the lock (the process's end does it too).
    deinit { close(lockDescriptor) }

    /// The run files present, for the refusal's message; empty when the directory holds no run.
    public func existingRun() -> [String] {
        Self.runMarkers.filter { FileManager.default.fileExists(atPath: path + "/" + $0) }
            .map { $0 == "checkpoints" ? "checkpoints/" : $0 }
    }

    /// Refuses to start afresh over an existing run. When the run was made from another config file
    /// (two experiments' `config.yaml` both default to runs/config), the refusal names it and
    /// suggests a run directory of this config's own instead of `--force`, which would delete it.
    func refuseOverwriting(configPath: String) throws(NNTrainError) {
        let found = existingRun()
        guard !found.isEmpty else { return }
        let files = found.joined(separator: ", ")
        if let recorded = recordedConfig(), !Self.samePath(recorded, configPath) {
            throw NNTrainError(.cannotWrite, "\(path) already holds a run of \(recorded) (\(files)); for \(configPath), "
                + "set a run directory of its own, e.g. "
                + "--set \(ShellQuoting.quote("output.dir=" + ownDirectory(configPath: configPath))) "
                + "(--force would delete the run of \(recorded))")
        }
        throw NNTrainError(.cannotWrite, "\(path) already holds a run (\(files)); "
            + "pass --resume to continue it or --force to start afresh, deleting it")
    }

    /// The first line of a run's config.yaml, naming the config file it was resolved from (as given
    /// on the command line), which `refuseOverwriting` reads back.
    static func configHeader(configPath: String) -> String {
        configHeaderPrefix + configPath.split(whereSeparator: \.isNewline).joined(separator: " ") + "\n"
    }

    private static let configHeaderPrefix = "# resolved from "

    /// The config file named by config.yaml's first line; nil without one (a run of an older nntrain).
    func recordedConfig() -> String? {
        guard let data = FileManager.default.contents(atPath: path + "/config.yaml") else { return nil }
        let firstLine = String(decoding: data.prefix { $0 != UInt8(ascii: "\n") }, as: UTF8.self)
        guard firstLine.hasPrefix(Self.configHeaderPrefix) else { return nil }
        return String(firstLine.dropFirst(Self.configHeaderPrefix.count))
    }

    /// Whether two paths, relative to the working directory or absolute, name the same file.
    static func samePath(_ a: String, _ b: String) -> Bool {
        func canonical(_ path: String) -> String { URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path }
        return canonical(a) == canonical(b)
    }

    /// A run directory for the config at `configPath` named after its folder (`my/expB/config.yaml`:
    /// runs/expB), or after this directory when that would be this one.
    func ownDirectory(configPath: String) -> String {
        let folder = URL(fileURLWithPath: configPath).standardizedFileURL.deletingLastPathComponent().lastPathComponent
        let candidate = "runs/" + folder
        return folder.isEmpty || folder == "/" || Self.samePath(candidate, path) ? path + "-2" : candidate
    }

    /// Deletes the previous run's files (see `runFiles`), checkpoints (last.bin, best.bin,
    /// epoch-NNNN.bin and temporary files) and TensorBoard event files; then checkpoints/ and
    /// tensorboard/ themselves if nothing else is in them.
    func clearRun() throws(NNTrainError) {
        let manager = FileManager.default
        let checkpoints = path + "/checkpoints", tensorBoard = path + "/" + TensorBoardLog.folderName
        let names = (try? manager.contentsOfDirectory(atPath: checkpoints)) ?? []
        let events = (try? manager.contentsOfDirectory(atPath: tensorBoard)) ?? []
        let targets = Self.runFiles.map { path + "/" + $0 }
            + names.filter(Self.isCheckpointFile).map { checkpoints + "/" + $0 }
            + events.filter { $0.hasPrefix("events.out.tfevents.") }.map { tensorBoard + "/" + $0 }
        for target in targets {
            guard unlink(target) == 0 || errno == ENOENT else {
                throw .cannotWrite(target, "cannot delete it to start afresh (--force): \(String(cString: strerror(errno)))")
            }
        }
        _ = rmdir(checkpoints)  // fails, and so stays, when something of the user's is in it
        _ = rmdir(tensorBoard)
    }

    /// Deletes the temporary files of processes that are gone (killed mid-write).
    func removeAbandonedTemporaryFiles() {
        for folder in [path, path + "/checkpoints"] {
            for name in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] {
                guard let pid = Self.temporaryFileOwner(name), pid > 0, pid != getpid(),
                      kill(pid, 0) != 0, errno == ESRCH else { continue }
                unlink(folder + "/" + name)
            }
        }
    }

    /// last.bin, best.bin, epoch-NNNN.bin, or a temporary file of one.
    static func isCheckpointFile(_ name: String) -> Bool {
        let base = name.components(separatedBy: ".partial-")[0]
        guard base.hasSuffix(".bin") else { return false }
        let stem = base.dropLast(4)
        return stem == "last" || stem == "best" || (stem.hasPrefix("epoch-") && stem.dropFirst(6).allSatisfy(\.isNumber))
    }

    /// The PID in a temporary file's name (`metrics.csv.partial-1234`), or nil for other names.
    static func temporaryFileOwner(_ name: String) -> pid_t? {
        guard let range = name.range(of: ".partial-", options: .backwards) else { return nil }
        return pid_t(name[range.upperBound...])
    }
}
