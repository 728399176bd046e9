import Foundation
import Testing

@testable import NNTrain

@Suite struct CRC32CTests {
    /// RFC 3720 (iSCSI), appendix B.4: the CRC-32C of four 32-byte messages, and the catalogue's
    /// check value of "123456789" (0xE3069283; zlib's CRC-32 of it is 0xCBF43926).
    @Test func rfc3720Vectors() {
        #expect(CRC32C.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
        #expect(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)) == 0x62A8_AB43)
        #expect(CRC32C.checksum((0..<32).map { UInt8($0) }) == 0x46DD_794E)
        #expect(CRC32C.checksum((0..<32).reversed().map { UInt8($0) }) == 0x113F_DB5C)
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.checksum([]) == 0)
    }

    /// The mask written out: rotate right by 15, add 0xa282ead8 modulo 2³².
    @Test func maskRotatesAndOffsets() {
        // 0x00000001 rotated right by 15 is 0x00020000; plus the delta.
        #expect(CRC32C.mask(1) == 0x0002_0000 + 0xA282_EAD8)
        // 0x80000000 rotated right by 15 is 0x00010000.
        #expect(CRC32C.mask(0x8000_0000) == 0x0001_0000 + 0xA282_EAD8)
        // The addition wraps: 0xFFFFFFFF rotates to itself, and 0xFFFFFFFF + 0xa282ead8 = 0xa282ead7 mod 2³².
        #expect(CRC32C.mask(0xFFFF_FFFF) == 0xA282_EAD7)
        #expect(CRC32C.masked(Array("123456789".utf8)) == CRC32C.mask(0xE306_9283))
    }
}

@Suite struct TensorBoardWriterTests {
    private let folder: TemporaryFolder

    init() throws { folder = try TemporaryFolder() }

    /// Event{step: 1} is the two bytes 0x10 0x01 (field 2, varint). Its record: the length 2 as eight
    /// little-endian bytes, the masked CRC-32C of those (CRC 0x1e5048c4, masked 0x340b2778), the data,
    /// and its masked CRC (CRC 0x3ccf0550, masked 0xad236476), the CRCs computed by a bitwise CRC-32C
    /// in Python (not this table), stored little-endian.
    @Test func recordFramingOfATinyEvent() {
        var event = Tensorboard_Event()
        event.step = 1
        let expected: [UInt8] = [2, 0, 0, 0, 0, 0, 0, 0] + [0x78, 0x27, 0x0B, 0x34] + [0x10, 0x01] + [0x76, 0x64, 0x23, 0xAD]
        #expect(TensorBoardWriter.record(event) == expected)
    }

    /// The first record of a file: wall_time (field 1, fixed64: tag 0x09, 1.5 = 0x3FF8000000000000
    /// little-endian) and file_version (field 3, length-delimited: tag 0x1A, 13 bytes).
    @Test func theFileStartsWithItsVersionAndIsNamedAsSummaryWriterNamesIt() throws {
        let writer = try TensorBoardWriter(folder: folder.file("tb"), wallTime: 1.5, host: "node7", processID: 42)
        #expect(writer.path == folder.file("tb") + "/events.out.tfevents.0000000001.node7.42")
        let data: [UInt8] = [0x09, 0, 0, 0, 0, 0, 0, 0xF8, 0x3F, 0x1A, 0x0D] + Array("brain.Event:2".utf8)
        let bytes = try #require(FileManager.default.contents(atPath: writer.path))
        #expect(Array(bytes) == TensorBoardWriter.record(data))
        #expect(Array(bytes[0..<8]) == [UInt8(data.count), 0, 0, 0, 0, 0, 0, 0])

        // A second writer in the same second of the same process gets a name of its own.
        let second = try TensorBoardWriter(folder: folder.file("tb"), wallTime: 1.9, host: "node7", processID: 42)
        #expect(second.path == writer.path + ".1")
    }

    @Test func scalarsAndHistogramsReadBackAfterAFlush() throws {
        let writer = try TensorBoardWriter(
            folder: folder.path, wallTime: 1_700_000_000.25, host: "h", processID: 9)
        #expect(writer.path.hasSuffix("/events.out.tfevents.1700000000.h.9"))
        writer.addScalar(tag: "loss/train", value: 0.1, step: 120, wallTime: 1_700_000_001)
        #expect(writer.addHistogram(tag: "layer0/weight", values: [Float(-1)], step: 120, wallTime: 1_700_000_002))
        // Nothing reaches the file before the flush.
        #expect(try readEvents(writer.path).count == 1)
        try writer.flush()

        let events = try readEvents(writer.path)
        try #require(events.count == 3)
        #expect(events[0].fileVersion == "brain.Event:2")
        #expect(events[0].wallTime == 1_700_000_000.25)
        #expect(events[1].step == 120 && events[1].wallTime == 1_700_000_001)
        #expect(events[1].summary.value.map(\.tag) == ["loss/train"])
        // simple_value is a float32: 0.1 rounded to Float.
        #expect(events[1].summary.value.first?.simpleValue == Float(0.1))
        let histogram = try #require(events[2].summary.value.first?.histo)
        #expect(events[2].summary.value.first?.tag == "layer0/weight")
        #expect(histogram.bucket == [0, 1] && histogram.num == 1 && histogram.min == -1 && histogram.max == -1)
        try writer.flush()  // nothing pending: the file stays as it is
        #expect(try readEvents(writer.path).count == 3)
    }

    @Test func aFolderThatCannotBeMadeIsCannotWrite() throws {
        let blocker = try folder.write([1], to: "file")
        #expect {
            try TensorBoardWriter(folder: blocker + "/tb", host: "h", processID: 1)
        } throws: { error in
            (error as? NNTrainError)?.kind == .cannotWrite && "\(error)".contains(blocker)
        }
    }

    /// The default edges: -v₇₇₃ ... -v₀, 0, v₀ ... v₇₇₃ with v₀ = 1e-12 and v_k = v_{k-1}·1.1, the last
    /// below 1e20 (log(1e32)/log(1.1) = 773.1).
    @Test func defaultBucketEdges() {
        let edges = TensorBoardWriter.defaultBucketEdges
        #expect(edges.count == 1549)
        #expect(edges[774] == 0 && edges[775] == 1e-12 && edges[773] == -1e-12)
        #expect(edges[776] == 1e-12 * 1.1)
        #expect(edges[1548] < 1e20 && edges[1548] * 1.1 >= 1e20)
        #expect(edges[0] == -edges[1548])
    }

    /// [0, 0, 0.5, 0.5, 0.6]: 0 is the edge at index 774, so both zeros count in bucket 774 [0, 1e-12);
    /// 0.5 lies in [v₂₈₂, v₂₈₃) = [0.4707, 0.5178) (1e-12·1.1^282 ≤ 0.5 < 1e-12·1.1^283), bucket
    /// 775 + 282; 0.6 in [v₂₈₄, v₂₈₅) = [0.5696, 0.6265), bucket 775 + 284. The support is buckets
    /// 774 ... 1059, so the histogram holds bucket 773 (empty, right edge 0) to 1059: 287 buckets with
    /// counts 2 at 1, 2 at 284 and 1 at 286, limits e[774 ... 1060]. np.histogram and make_histogram
    /// give the same (checked once with numpy 2.4).
    @Test func histogramBucketsAsMakeHistogramMakesThem() throws {
        let values: [Float] = [0, 0, 0.5, 0.5, 0.6]
        let histogram = try #require(TensorBoardWriter.histogram(values))
        #expect(histogram.bucket.count == 287 && histogram.bucketLimit.count == 287)
        let nonzero = histogram.bucket.indices.filter { histogram.bucket[$0] != 0 }
        #expect(nonzero == [1, 284, 286])
        #expect(nonzero.map { histogram.bucket[$0] } == [2, 2, 1])
        #expect(histogram.bucketLimit[0] == 0 && histogram.bucketLimit[1] == 1e-12)
        #expect(histogram.bucketLimit[283] <= 0.5 && 0.5 < histogram.bucketLimit[284])
        #expect(abs(histogram.bucketLimit[284] - 0.5177616740489182) < 1e-15)
        #expect(abs(histogram.bucketLimit[286] - 0.6264916255991911) < 1e-15)
        #expect(histogram.min == 0 && histogram.max == Double(Float(0.6)) && histogram.num == 5)
        #expect(histogram.sum == 0.5 + 0.5 + Double(Float(0.6)))
        #expect(histogram.sumSquares == 0.25 + 0.25 + Double(Float(0.6)) * Double(Float(0.6)))

        // One negative value: -1 lies in [-v₂₉₀, -v₂₈₉) = [-1.00897, -0.91725); the histogram is the
        // empty bucket before it and its own.
        let negative = try #require(TensorBoardWriter.histogram([-1]))
        #expect(negative.bucket == [0, 1])
        #expect(abs(negative.bucketLimit[0] + 1.0089710279437536) < 1e-15)
        #expect(abs(negative.bucketLimit[1] + 0.917246389039776) < 1e-15)

        // Beyond the edges: counted in num, min and sum, in no bucket; nothing in range is no histogram.
        let wide = try #require(TensorBoardWriter.histogram([-1e21, 3]))
        #expect(wide.bucket == [0, 1] && wide.num == 2 && wide.min == Double(Float(-1e21)))
        #expect(TensorBoardWriter.histogram([Float.nan, Float.infinity]) == nil)
        #expect(TensorBoardWriter.histogram([Float]()) == nil)
    }

    /// A TFRecord reader written from the format: each record's length and data checked against
    /// their masked CRC-32C, the data decoded as an Event.

    private func readEvents(_ path: String) throws -> [Tensorboard_Event] { try TensorBoardEvents.read(path) }
}

extension TensorBoardWriterTests {
    /// SummaryWriter(purge_step: 20): after the file version, Event(step 20, file_version) and
    /// Event(step 20, session_log: START) — field 7 holding field 1 = 1: bytes 0x3A 0x02 0x08 0x01.
    @Test func aResumedRunsFileMarksItsPurgeStep() throws {
        let writer = try TensorBoardWriter(folder: folder.path, wallTime: 2, host: "h", processID: 3, purgeStep: 20)
        let bytes = try #require(FileManager.default.contents(atPath: writer.path)).map { $0 }
        let version: [UInt8] = [0x1A, 0x0D] + Array("brain.Event:2".utf8)
        let two: [UInt8] = [0x09, 0, 0, 0, 0, 0, 0, 0, 0x40]  // wall_time 2.0 = 0x4000000000000000
        let expected =
            TensorBoardWriter.record(two + version) + TensorBoardWriter.record(two + [0x10, 20] + version)
            + TensorBoardWriter.record(two + [0x10, 20, 0x3A, 0x02, 0x08, 0x01])
        #expect(bytes == expected)
    }
}

/// Event files read back by the tests' own TFRecord reader: each record's length and data checked
/// against their masked CRC-32C, the data decoded as an Event.
enum TensorBoardEvents {
    static func read(_ path: String) throws -> [Tensorboard_Event] {
        let bytes = try #require(FileManager.default.contents(atPath: path)).map { $0 }
        func integer(_ range: Range<Int>) -> UInt64 {
            range.reversed().reduce(0) { $0 << 8 | UInt64(bytes[$1]) }
        }
        var events: [Tensorboard_Event] = []
        var offset = 0
        while offset < bytes.count {
            try #require(offset + 12 <= bytes.count)
            let length = Int(integer(offset..<offset + 8))
            #expect(UInt32(integer(offset + 8..<offset + 12)) == CRC32C.masked(bytes[offset..<offset + 8]))
            let start = offset + 12
            try #require(start + length + 4 <= bytes.count)
            let data = Array(bytes[start..<start + length])
            #expect(UInt32(integer(start + length..<start + length + 4)) == CRC32C.masked(data))
            events.append(try Tensorboard_Event(serializedBytes: data))
            offset = start + length + 4
        }
        return events
    }

    /// The events of every event file in `folder`, files in name order (as TensorBoard's directory
    /// loader reads them), with TensorBoard's restart rule applied: a SessionLog START at step s drops
    /// every event read before it whose step is ≥ s (EventAccumulator._CheckForRestartAndMaybePurge).
    /// Also returns how many events that dropped.
    static func readRun(_ folder: String) throws -> (events: [Tensorboard_Event], purged: Int) {
        let names = try FileManager.default.contentsOfDirectory(atPath: folder)
            .filter { $0.hasPrefix("events.out.tfevents.") }.sorted()
        var events: [Tensorboard_Event] = [], purged = 0
        for name in names {
            for event in try read(folder + "/" + name) {
                if event.sessionLog.status == .start {
                    let before = events.count
                    events.removeAll { $0.step >= event.step }
                    purged += before - events.count
                }
                events.append(event)
            }
        }
        return (events, purged)
    }

    /// Each scalar tag's (step, value) pairs in file order.
    static func scalars(_ events: [Tensorboard_Event]) -> [String: [(step: Int, value: Float)]] {
        var scalars: [String: [(step: Int, value: Float)]] = [:]
        for event in events {
            for value in event.summary.value {
                guard case .simpleValue(let number)? = value.value else { continue }
                scalars[value.tag, default: []].append((Int(event.step), number))
            }
        }
        return scalars
    }
}
