import Foundation
import ReaderFuzzing
import Testing

/// A fresh folder under the system's temporary folder for one test's fixture files, removed with
/// everything in it when the test lets go of it.
final class TemporaryFolder {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("nntrain-test-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// The path of `name` in the folder.
    func file(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }

    /// Writes `bytes` to `name` in the folder and returns its path.
    @discardableResult
    func write(_ bytes: [UInt8], to name: String) throws -> String {
        let target = file(name)
        try Data(bytes).write(to: URL(fileURLWithPath: target))
        return target
    }

    /// Writes `text` as UTF-8 to `name` in the folder and returns its path.
    @discardableResult
    func write(_ text: String, to name: String) throws -> String {
        try write(Array(text.utf8), to: name)
    }

    /// Writes `bytes` gzipped to `name` in the folder and returns its path.
    @discardableResult
    func writeGzipped(_ bytes: [UInt8], to name: String) throws -> String {
        try write(try gzipped(bytes), to: name)
    }
}

/// `bytes` compressed as one gzip member at zlib's default level (ReaderFuzzing.gzip).
func gzipped(_ bytes: [UInt8]) throws -> [UInt8] {
    let member = ReaderFuzzing.gzip(bytes, level: 6)
    try #require(!member.isEmpty, "zlib could not compress the fixture")
    return member
}

/// An IDX file of unsigned bytes (magic 0x0000_08_<dimension count>, big-endian sizes, then `data`).
func idxFile(dimensions: [Int], data: [UInt8], magic: UInt32? = nil) -> [UInt8] {
    func bigEndian(_ value: UInt32) -> [UInt8] { [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: value >> $0) } }
    let header = bigEndian(magic ?? 0x0800 | UInt32(dimensions.count)) + dimensions.flatMap { bigEndian(UInt32($0)) }
    return header + data
}

/// `count` deterministic pseudo-random bytes (a linear congruential sequence), for fixture data
/// that is neither constant nor trivially compressible.
func fixtureBytes(_ count: Int, seed: UInt32 = 1) -> [UInt8] {
    var state = seed
    return (0..<count).map { _ in
        state = state &* 1_664_525 &+ 1_013_904_223
        return UInt8(truncatingIfNeeded: state >> 24)
    }
}
