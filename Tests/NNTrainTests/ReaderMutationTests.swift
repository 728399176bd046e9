import Foundation
import NNTrain
import ReaderFuzzing
import Testing

/// Seeded random mutations of valid inputs through every reader (see ReaderFuzzing): bit flips,
/// truncations, insertions, deletions, repeated chunks, interesting integers written over size
/// fields and, for the text formats, tokens that change structure. Each input must be read or
/// refused with an error of the reader's kinds on one line; a trap kills the test process, which
/// is the failure. A few hundred inputs per reader, about a second each in a debug build; the
/// libFuzzer targets (`make fuzz`) go on for as long as they are given.
@Suite struct ReaderMutationTests {
    @Test(arguments: FuzzedReader.allCases)
    func mutatedInputsAreReadOrRefused(_ reader: FuzzedReader) {
        let rounds = reader == .checkpoint ? 600 : 800
        var mutator = Mutator(seed: 0x5EED_0000 + UInt64(FuzzedReader.allCases.firstIndex(of: reader) ?? 0))
        let seeds = ReaderFuzzing.seeds(for: reader)
        #expect(!seeds.isEmpty)
        for seed in seeds {
            #expect(ReaderFuzzing.check(ReaderFuzzing.read(reader, seed), of: reader) == nil)
            if case .refused(let error) = ReaderFuzzing.read(reader, seed) { Issue.record("a seed is refused: \(error.message)") }
        }
        var accepted = 0
        for round in 0..<rounds {
            let input = mutator.mutate(seeds[round % seeds.count], text: reader == .config || reader == .csv)
            let outcome = ReaderFuzzing.read(reader, input)
            if case .accepted = outcome { accepted += 1 }
            // A checkpoint's CRC-32 refuses almost every mutation, so one is accepted only by luck (about 1 in
            // 300, moved by any change of the file's length); the reader goes on past the checksum, and a
            // mutated file that Checkpoint(contents:) still takes (a flipped bit in a weight, say) reaches
            // the restore and eval: those count.
            else if reader == .checkpoint,
                    (try? Checkpoint(contents: SafeTensors.decode(input, path: "last.bin"), path: "last.bin")) != nil
            {
                accepted += 1
            }
            if let problem = ReaderFuzzing.check(outcome, of: reader) {
                Issue.record("\(reader) round \(round): \(problem); input (base64): \(Data(input).base64EncodedString())")
            }
        }
        // Mutations that keep an input valid show the mutator reaches past the first check.
        #expect(accepted > 0, "no mutated \(reader) input was accepted")
    }

    /// Structure-aware mutations of checkpoints: the tensors and metadata are changed and the file
    /// encoded again with a correct checksum, so every input reaches Checkpoint(contents:), the
    /// restore and eval's model.
    @Test func mutatedCheckpointContentsAreReadOrRefused() throws {
        var mutator = Mutator(seed: 0xC0FFEE)
        let seeds = try ReaderFuzzing.seeds(for: .checkpoint).map { try SafeTensors.decode($0, path: "seed") }
        for round in 0..<300 {
            var file = seeds[round % seeds.count]
            for _ in 0...mutator.below(2) {
                if mutator.below(2) == 0, !file.metadata.isEmpty {
                    let keys = file.metadata.keys.sorted()
                    let key = keys[mutator.below(keys.count)]
                    file.metadata[key] = String(decoding: mutator.mutate(Array((file.metadata[key] ?? "").utf8), text: true),
                                                as: UTF8.self)
                } else if !file.tensors.isEmpty {
                    let index = mutator.below(file.tensors.count)
                    var tensor = file.tensors[index].tensor
                    switch mutator.below(4) {
                    case 0: tensor.bytes = mutator.mutate(tensor.bytes, text: false)
                    case 1: tensor.shape = tensor.shape.map { _ in mutator.below(3) == 0 ? 0 : mutator.below(30) }
                    case 2: file.tensors.remove(at: index)
                    default: tensor.shape.append(1)
                    }
                    // Keep the shape consistent with the bytes unless the mutation was about that.
                    if index < file.tensors.count {
                        if tensor.bytes.count % tensor.dtype.size == 0, mutator.below(2) == 0 {
                            tensor.shape = [tensor.bytes.count / tensor.dtype.size]
                        }
                        file.tensors[index].tensor = tensor
                    }
                }
            }
            let outcome = ReaderFuzzing.read(.checkpoint, CheckpointFile.encode(file))
            if let problem = ReaderFuzzing.check(outcome, of: .checkpoint) {
                Issue.record("checkpoint contents round \(round): \(problem)")
            }
        }
    }
}

/// Mutations in the manner of libFuzzer's and AFL's, from a seeded xoshiro256** stream.
struct Mutator {
    var random: RandomGenerator

    init(seed: UInt64) { random = RandomGenerator(seed: seed) }

    /// A number in 0..<bound (bound > 0).
    mutating func below(_ bound: Int) -> Int { Int(random.next() % UInt64(bound)) }

    /// Integers that make size fields interesting: zero, one, the edges of each width, and
    /// powers of two near them.
    static let interesting: [UInt64] = [
        0, 1, 2, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0x8000, 0xFFFF, 0x1_0000, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF,
        0x1_0000_0000, 1 << 53, 1 << 60, 0x7FFF_FFFF_FFFF_FFFF, 0x8000_0000_0000_0000, .max,
    ]

    /// Tokens that change the structure of YAML or CSV text.
    static let tokens = [
        "\n", "\r\n", "\t", " ", ",", "\"", "\"\"", ":", ": ", "- ", "[", "]", "{", "}", "&a ", "*a", "!!str ", "#", "---\n",
        "...", "~", "null", "nan", "NaN", "inf", "-.inf", ".nan", "1e999", "-0", "0x10", "9223372036854775808", "\u{FEFF}",
        "\u{0}", "é", "\u{85}", "\u{2028}", "hidden", "lr", "seed", "name", "[1, [2]]", "{a: 1}", "? ", "|\n", ">\n",
    ]

    /// One to four mutations of `bytes`; `text` adds token insertions and line repetition.
    mutating func mutate(_ bytes: [UInt8], text: Bool) -> [UInt8] {
        var result = bytes
        for _ in 0...below(4) {
            let count = result.count
            switch below(text ? 10 : 8) {
            case 0 where count > 0:  // a bit flip
                result[below(count)] ^= 1 << UInt8(below(8))
            case 1 where count > 0:  // a random byte
                result[below(count)] = UInt8(truncatingIfNeeded: random.next())
            case 2:  // cut at a random place
                result.removeLast(count == 0 ? 0 : below(count + 1))
            case 3:  // insert random bytes
                let inserted = (0...below(8)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
                result.insert(contentsOf: inserted, at: below(count + 1))
            case 4 where count > 1:  // delete a chunk
                let start = below(count)
                result.removeSubrange(start..<min(count, start + 1 + below(16)))
            case 5 where count > 1:  // repeat a chunk
                let start = below(count)
                let chunk = result[start..<min(count, start + 1 + below(64))]
                result.insert(contentsOf: chunk, at: below(count + 1))
            case 6, 7:  // an interesting integer, 1, 2, 4 or 8 bytes, either byte order
                let width = [1, 2, 4, 8][below(4)]
                guard count >= width else { continue }
                var value = Self.interesting[below(Self.interesting.count)]
                if below(4) == 0 { value = value &- 1 }
                let little = below(2) == 0
                let offset = below(count - width + 1)
                for index in 0..<width {
                    let shift = UInt64(8 * (little ? index : width - 1 - index))
                    result[offset + index] = UInt8(truncatingIfNeeded: value >> shift)
                }
            case 8:  // a token
                result.insert(contentsOf: Array(Self.tokens[below(Self.tokens.count)].utf8), at: below(count + 1))
            case 9 where count > 0:  // a line repeated
                let lines = result.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
                let line = lines[below(lines.count)]
                result.insert(contentsOf: line + [UInt8(ascii: "\n")], at: below(count + 1))
            default:
                break
            }
        }
        return result
    }
}
