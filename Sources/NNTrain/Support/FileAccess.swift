import Foundation

/// An input file opened with POSIX `open(2)` for the data readers, closed when it goes out of scope.
/// Every failure becomes a one-line `NNTrainError` naming the path: a missing file is
/// `.missingFile` with what the reader expected there; a folder (or another kind of file) is
/// `.missingFile` saying what it is instead (`data is a folder; expected a CSV file ...`), and any
/// other reason it cannot be read (permissions) is also `.missingFile` (EX_NOINPUT), with the
/// system's reason.
struct InputFile: ~Copyable {
    let path: String
    /// Size in bytes when the file was opened.
    let size: Int
    private let descriptor: Int32

    /// Opens `path` for reading. `expected` completes "no such file or folder (expected ...)".
    init(path: String, expected: String) throws(NNTrainError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let code = errno
            if code == ENOENT || code == ENOTDIR { throw .missingFile(path, expected: expected) }
            throw InputFile.unreadable(path, code)
        }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let code = errno
            close(fd)
            throw InputFile.unreadable(path, code)
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            let kind = (info.st_mode & S_IFMT) == S_IFDIR ? "a folder" : "not a regular file"
            throw NNTrainError(.missingFile, "\(path) is \(kind); expected \(expected)")
        }
        self.path = path
        self.size = Int(info.st_size)
        self.descriptor = fd
    }

    deinit { close(descriptor) }

    /// Reads up to `buffer.count` bytes from the current position; 0 means the end of the file.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(NNTrainError) -> Int {
        while true {
            let n = Foundation.read(descriptor, buffer.baseAddress, buffer.count)
            if n >= 0 { return n }
            if errno != EINTR { throw InputFile.unreadable(path, errno) }
        }
    }

    /// Reads up to `count` bytes starting at byte `offset`, without moving the current position.
    func read(at offset: Int, count: Int) throws(NNTrainError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let n = bytes.withUnsafeMutableBytes { buffer in
                pread(descriptor, buffer.baseAddress.map { $0 + filled }, count - filled, off_t(offset + filled))
            }
            if n == 0 { break }
            if n < 0 {
                if errno == EINTR { continue }
                throw InputFile.unreadable(path, errno)
            }
            filled += n
        }
        bytes.removeLast(count - filled)
        return bytes
    }

    /// The whole file.
    static func readAll(path: String, expected: String) throws(NNTrainError) -> [UInt8] {
        let file = try InputFile(path: path, expected: expected)
        return try file.read(at: 0, count: file.size)
    }

    private static func unreadable(_ path: String, _ code: Int32) -> NNTrainError {
        NNTrainError(.missingFile, "\(path): cannot read: \(String(cString: strerror(code)))")
    }
}

/// Writes output files whole and durably: the bytes go to a temporary file beside `path`, which is
/// flushed to disk (fsync) and then renamed over it, and the folder's entry is flushed too; so a
/// crash at any moment leaves either the previous file or the new one, never half of one. The
/// folder is created if needed. Failures are `.cannotWrite` with the system's reason, and leave the
/// previous file as it was.
public enum OutputFile {
    public static func write(_ bytes: [UInt8], to path: String) throws(NNTrainError) {
        let folder = (path as NSString).deletingLastPathComponent
        if !folder.isEmpty {
            do {
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            } catch {
                throw .cannotWrite(path, "cannot create the folder \(folder)")
            }
        }
        let temporary = "\(path).partial-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw failure(path, errno) }
        if let code = writeAll(bytes, to: fd) {
            close(fd)
            unlink(temporary)
            throw failure(path, code)
        }
        guard fsync(fd) == 0 else {
            let code = errno
            close(fd)
            unlink(temporary)
            throw failure(path, code)
        }
        guard close(fd) == 0, rename(temporary, path) == 0 else {
            let code = errno
            unlink(temporary)
            throw failure(path, code)
        }
        let directory = open(folder.isEmpty ? "." : folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directory >= 0 {
            fsync(directory)
            close(directory)
        }
    }

    private static func failure(_ path: String, _ code: Int32) -> NNTrainError {
        .cannotWrite(path, String(cString: strerror(code)))
    }
}

/// Writes all of `bytes` to the file descriptor, retrying after signals and short writes; returns
/// the `errno` of a failure, nil on success.
private func writeAll(_ bytes: [UInt8], to descriptor: Int32) -> Int32? {
    var written = 0
    while written < bytes.count {
        let n = bytes.withUnsafeBytes { buffer in
            Foundation.write(descriptor, buffer.baseAddress.map { $0 + written }, bytes.count - written)
        }
        if n < 0 {
            if errno == EINTR { continue }
            return errno
        }
        written += n
    }
    return nil
}

/// A log file opened for appending (metrics.csv, steps.csv), closed when it goes out of scope. An
/// append is all or nothing: one that fails part-way (a full disk, a file-size limit) is cut off
/// again, so the file never ends in half a row.
final class AppendingFile {
    let path: String
    private let descriptor: Int32

    init(path: String) throws(NNTrainError) {
        let fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC)
        guard fd >= 0 else { throw .cannotWrite(path, String(cString: strerror(errno))) }
        self.path = path
        descriptor = fd
    }

    deinit { close(descriptor) }

    /// Appends `text` whole; with `synchronize`, flushes it to disk (fsync) before returning. On a
    /// failure the file is truncated back to its length before the call.
    func append(_ text: String, synchronize: Bool) throws(NNTrainError) {
        let end = lseek(descriptor, 0, SEEK_END)
        var code = writeAll(Array(text.utf8), to: descriptor)
        if code == nil, synchronize, fsync(descriptor) != 0 { code = errno }
        guard let code else { return }
        if end >= 0 { _ = ftruncate(descriptor, end) }
        throw .cannotWrite(path, String(cString: strerror(code)))
    }
}
