import CZlib

/// nntrain's checkpoint files: safetensors (see `SafeTensors`) whose `__metadata__` carries the
/// format's name and version and a CRC-32 (zlib's `crc32`) of the data section, checked on every
/// read, so a truncated, bit-flipped or foreign file is refused with a message rather than loaded.
public enum CheckpointFile {
    /// The layout version this build writes; a file of another version is refused, naming the
    /// versions this build reads.
    public static let formatVersion = 1
    public static let readableVersions = 1...1
    static let formatKey = "nntrain.format", formatName = "nntrain-checkpoint"
    static let versionKey = "nntrain.format_version", checksumKey = "nntrain.crc32"

    /// The file's bytes: `contents` with the format, version and checksum added to its metadata.
    public static func encode(_ contents: SafeTensors) -> [UInt8] {
        var file = contents
        file.metadata[formatKey] = formatName
        file.metadata[versionKey] = "\(formatVersion)"
        let data = file.tensors.reduce(into: [UInt8]()) { $0 += $1.tensor.bytes }
        file.metadata[checksumKey] = hex(crc32(data[...]))
        return file.encoded()
    }

    /// The largest checkpoint file read (8 GiB): a model of the most parameters a config allows
    /// (2^28, 1 GiB of float32) with restore_best's copy and three optimizer buffers is 5 GiB. A
    /// bigger file (a sparse file, a disk image) is refused before anything is allocated for it.
    public static let maxFileSize = 8 << 30

    /// Reads and verifies the checkpoint at `path` (see `verify`).
    public static func read(path: String) throws(NNTrainError) -> SafeTensors {
        let file = try InputFile(path: path, expected: "an nntrain checkpoint (.bin)")
        guard file.size <= maxFileSize else {
            throw .data(path, "the file is \(file.size) bytes; expected at most \(maxFileSize) "
                + "(a checkpoint of the largest model nntrain trains)")
        }
        return try verify(file.read(at: 0, count: file.size), path: path)
    }

    /// Decodes `bytes` and checks the format name, the version and the checksum. A file that is
    /// not a checkpoint at all (see `foreignFileReason`) is called that in plain words; one that
    /// starts as a checkpoint does is given the detailed message of what in it is damaged.
    public static func verify(_ bytes: [UInt8], path: String) throws(NNTrainError) -> SafeTensors {
        if let reason = foreignFileReason(bytes) { throw notACheckpoint(path, reason) }
        let file = try SafeTensors.decode(bytes, path: path)
        guard file.metadata[formatKey] == formatName else {
            throw notACheckpoint(path, "it is a safetensors file without nntrain's metadata: no \(formatKey): \(formatName)")
        }
        let versions = "\(readableVersions.lowerBound)" + (readableVersions.count > 1 ? "-\(readableVersions.upperBound)" : "")
        guard let text = file.metadata[versionKey], let version = Int(text), readableVersions.contains(version) else {
            throw .data(path, "checkpoint format version \(file.metadata[versionKey] ?? "(none)") is not one this "
                + "nntrain \(NNTrainVersion.string) reads; expected version \(versions)")
        }
        let actual = hex(crc32(SafeTensors.dataSection(of: bytes)))
        guard file.metadata[checksumKey] == actual else {
            throw .data(path, "checksum mismatch: the data's CRC-32 is \(actual) but the header records "
                + "\(file.metadata[checksumKey] ?? "none"); the file is damaged")
        }
        return file
    }

    /// The error for a file that is not an nntrain checkpoint, `reason` saying what it is instead.
    private static func notACheckpoint(_ path: String, _ reason: String) -> NNTrainError {
        NNTrainError(.data, "\(path) is not an nntrain checkpoint (\(reason)); "
            + "expected a checkpoint written by nntrain run, like runs/NAME/checkpoints/last.bin")
    }

    /// Why `bytes` cannot be the start of any safetensors file, or nil when they can. Every
    /// safetensors header is a JSON object, so its 9th byte is `{`; a file with another 9th byte
    /// (a config, a CSV, a gzip file given by mistake) is foreign, whatever its first 8 bytes say
    /// as a length. A file that ends before byte 9, or whose 9th byte is `{`, is treated as a
    /// checkpoint, and `SafeTensors.decode` says exactly where it is damaged (a cut or a flipped
    /// length is the usual damage, and keeps the `{`).
    static func foreignFileReason(_ bytes: [UInt8]) -> String? {
        guard bytes.count > 8, bytes[8] != UInt8(ascii: "{") else { return nil }
        return startsWithText(bytes) ? "it starts with text, not a safetensors header"
            : "it does not start with a safetensors header"
    }

    /// True when the first (up to) 64 bytes are UTF-8 text without control characters other than
    /// tabs and line breaks; a multi-byte character cut by the 64-byte window still counts.
    private static func startsWithText(_ bytes: [UInt8]) -> Bool {
        let window = bytes.prefix(64)
        let text = (0...3).lazy.compactMap { String(validating: window.dropLast($0), as: UTF8.self) }.first
        guard let text, !text.isEmpty else { return false }
        return text.unicodeScalars.allSatisfy {
            $0.properties.generalCategory != .control || "\t\n\r".unicodeScalars.contains($0)
        }
    }

    /// Writes `contents` to `path` atomically and durably (see OutputFile).
    public static func write(_ contents: SafeTensors, to path: String) throws(NNTrainError) {
        try OutputFile.write(encode(contents), to: path)
    }

    static func crc32(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        bytes.withUnsafeBufferPointer { buffer in
            var crc = CZlib.crc32(0, nil, 0)
            var start = 0
            while start < buffer.count {  // zlib takes lengths as UInt32
                let count = min(buffer.count - start, 1 << 30)
                crc = CZlib.crc32(crc, buffer.baseAddress.map { $0 + start }, UInt32(count))
                start += count
            }
            return UInt32(truncatingIfNeeded: crc)
        }
    }

    static func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 8 - digits.count) + digits
    }
}
