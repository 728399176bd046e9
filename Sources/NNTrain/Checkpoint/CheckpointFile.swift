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
            throw .data(path, "the file is \(file.size) bytes; expected at most \(maxFileSize) (a checkpoint of the largest model nntrain trains)")
        }
        return try verify(file.read(at: 0, count: file.size), path: path)
    }

    /// Decodes `bytes` and checks the format name, the version and the checksum.
    public static func verify(_ bytes: [UInt8], path: String) throws(NNTrainError) -> SafeTensors {
        let file = try SafeTensors.decode(bytes, path: path)
        guard file.metadata[formatKey] == formatName else {
            throw .data(path, "not an nntrain checkpoint (its metadata has no \(formatKey): \(formatName)); "
                + "expected a file written by nntrain run")
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

    /// Writes `contents` to `path` atomically and durably (see OutputFile).
    public static func write(_ contents: SafeTensors, to path: String) throws(NNTrainError) {
        try OutputFile.write(encode(contents), to: path)
    }

    private static func crc32(_ bytes: ArraySlice<UInt8>) -> UInt32 {
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

    private static func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 8 - digits.count) + digits
    }
}
