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
    /// False for standard input, which stays open.
    private let closesDescriptor: Bool

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
        closesDescriptor = true
    }

    /// An open descriptor read from where it stands (standard input), called `name` in messages and
    /// left open; its size is unknown (0), so read it with `read(into:)`.
    init(stream descriptor: Int32, named name: String) {
        path = name
        size = 0
        self.descriptor = descriptor
        closesDescriptor = false
    }

    deinit { if closesDescriptor { close(descriptor) } }

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

/// A file, or standard input (`-`), read once from start to end in chunks of `chunkSize` bytes, so
/// that a reader's memory is bounded by what it keeps, not by the file (CSVReader's records).
/// `name` names it in messages: the path, or "standard input".
final class SequentialInput {
    /// Bytes read per `read(2)`.
    static let chunkSize = 1 << 16
    let name: String
    private let file: InputFile
    /// Where each chunk is read (allocated once the file is open, so a refused path leaks nothing).
    private let chunk: UnsafeMutableRawBufferPointer

    /// `path`, or standard input when it is `-`; `expected` completes a missing file's message.
    init(path: String, expected: String) throws(NNTrainError) {
        name = Self.name(of: path)
        file = path == "-" ? InputFile(stream: STDIN_FILENO, named: name) : try InputFile(path: path, expected: expected)
        chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.chunkSize, alignment: 1)
    }

    /// How `path` is named in messages: itself, or "standard input" for `-`.
    static func name(of path: String) -> String { path == "-" ? "standard input" : path }

    /// Appends up to one chunk to `bytes`, read into `chunk` and copied in one piece; false at the
    /// end of the input.
    func append(to bytes: inout [UInt8]) throws(NNTrainError) -> Bool {
        let count = try file.read(into: chunk)
        bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: chunk[..<count]))
        return count > 0
    }

    deinit { chunk.deallocate() }
}

/// Bytes read in order: a file's as they are (`FileBytes`), or decoded (`GzipStream`).
protocol ByteSource: AnyObject {
    /// Reads the next bytes into `buffer` (not empty) and returns how many; 0 at the end.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(NNTrainError) -> Int
}

/// A file's bytes as they are, read in order; the first few can be looked at before they are read
/// (`peek`), so that a stream of unknown kind (standard input) can be judged by its magic bytes.
final class FileBytes: ByteSource {
    private let file: InputFile
    /// Bytes looked at by `peek` and not read yet.
    private var lookedAhead: [UInt8] = []

    init(_ file: consuming InputFile) { self.file = file }

    /// The next `count` bytes (fewer only at the end), which `read` returns afterwards all the same.
    func peek(_ count: Int) throws(NNTrainError) -> [UInt8] {
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: count, alignment: 1)
        defer { chunk.deallocate() }
        while lookedAhead.count < count {
            let read = try file.read(into: UnsafeMutableRawBufferPointer(rebasing: chunk[..<(count - lookedAhead.count)]))
            if read == 0 { break }
            lookedAhead += chunk[..<read]
        }
        return Array(lookedAhead.prefix(count))
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws(NNTrainError) -> Int {
        guard !lookedAhead.isEmpty else { return try file.read(into: buffer) }
        let count = min(lookedAhead.count, buffer.count)
        buffer.copyBytes(from: lookedAhead[..<count])
        lookedAhead.removeFirst(count)
        return count
    }
}

/// Writes output files whole and durably: the bytes go to a temporary file beside `path`, which is
/// flushed to disk (fsync) and then renamed over it, and the folder's entry is flushed too; so a
/// crash at any moment leaves either the previous file or the new one, never half of one. The
/// folder is created if needed. Failures are `.cannotWrite` with the system's reason, and leave the
/// previous file as it was.
public enum OutputFile {
    public static func write(_ bytes: [UInt8], to path: String) throws(NNTrainError) {
        let file = try Stream(path: path)
        try file.append(bytes)
        try file.finish()
    }

    /// An output file written in pieces with `write`'s guarantee: the pieces go to the temporary
    /// file, and only `finish` puts it in place; a stream dropped unfinished (an error part-way)
    /// deletes its temporary file, leaving the previous file, or none, as it was.
    public final class Stream {
        public let path: String
        private let folder: String
        private let temporary: String
        private var descriptor: Int32

        public init(path: String) throws(NNTrainError) {
            self.path = path
            folder = (path as NSString).deletingLastPathComponent
            if !folder.isEmpty {
                do {
                    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
                } catch {
                    throw .cannotWrite(path, "cannot create the folder \(folder)")
                }
            }
            temporary = "\(path).partial-\(getpid())"
            descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard descriptor >= 0 else { throw failure(errno) }
        }

        deinit {
            guard descriptor >= 0 else { return }
            close(descriptor)
            unlink(temporary)
        }

        /// Appends `bytes` to the temporary file.
        public func append(_ bytes: [UInt8]) throws(NNTrainError) {
            precondition(descriptor >= 0, "OutputFile.Stream: append after finish")
            if let code = writeAll(bytes, to: descriptor) { throw abandon(code) }
        }

        /// Flushes the temporary file to disk, renames it over `path` and flushes the folder's entry.
        public func finish() throws(NNTrainError) {
            guard fsync(descriptor) == 0 else { throw abandon(errno) }
            let closed = close(descriptor)
            descriptor = -1
            guard closed == 0, rename(temporary, path) == 0 else {
                let code = errno
                unlink(temporary)
                throw failure(code)
            }
            let directory = open(folder.isEmpty ? "." : folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            if directory >= 0 {
                fsync(directory)
                close(directory)
            }
        }

        /// Closes and deletes the temporary file after a failure with `errno` `code`.
        private func abandon(_ code: Int32) -> NNTrainError {
            close(descriptor)
            descriptor = -1
            unlink(temporary)
            return failure(code)
        }

        private func failure(_ code: Int32) -> NNTrainError {
            .cannotWrite(path, String(cString: strerror(code)))
        }
    }
}

/// Standard output written in pieces, for output that streams to a pipe (`nntrain predict`
/// without `--out`); a failed write (a closed pipe) is `.cannotWrite` naming "standard output".
public enum StandardOutput {
    public static func write(_ bytes: [UInt8]) throws(NNTrainError) {
        if let code = writeAll(bytes, to: STDOUT_FILENO) {
            throw .cannotWrite("standard output", String(cString: strerror(code)))
        }
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
        try append(bytes: Array(text.utf8), synchronize: synchronize)
    }

    /// Appends `bytes` whole (a TensorBoard event file's records), as `append(_:synchronize:)`.
    func append(bytes: [UInt8], synchronize: Bool) throws(NNTrainError) {
        let end = lseek(descriptor, 0, SEEK_END)
        var code = writeAll(bytes, to: descriptor)
        if code == nil, synchronize, fsync(descriptor) != 0 { code = errno }
        guard let code else { return }
        if end >= 0 { _ = ftruncate(descriptor, end) }
        throw .cannotWrite(path, String(cString: strerror(code)))
    }
}
