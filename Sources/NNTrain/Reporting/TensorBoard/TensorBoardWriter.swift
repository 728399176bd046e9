import Foundation
import SwiftProtobuf

/// A TensorBoard event file, written as torch.utils.tensorboard's `SummaryWriter` writes one
/// (torch/utils/tensorboard/writer.py; the file format of tensorboard/summary/writer/event_file_writer.py
/// and record_writer.py).
///
/// The file is `<folder>/events.out.tfevents.<seconds>.<host>.<pid>` (seconds since the Unix epoch,
/// ten digits, as `%010d`; `gethostname`; the process id); a name already taken in the same second
/// gets `.1`, `.2`, ... appended. It is a sequence of TFRecord records, each
///
///     UInt64 little-endian length n | masked CRC-32C of those 8 bytes | n bytes: a serialized Event
///     | masked CRC-32C of the n bytes
///
/// (`CRC32C.masked`), the first one an Event with `wall_time` and `file_version: "brain.Event:2"`,
/// each later one an Event with `wall_time`, `step` and one `Summary`. Records are kept in memory
/// until `flush`, which the trainer calls at each epoch's end (SummaryWriter flushes every
/// `flush_secs` = 120 s; once an epoch keeps epoch times unaffected). A failed write is
/// `NNTrainError(.cannotWrite)` naming the file, and leaves the file without half a record.
final class TensorBoardWriter {
    /// The event file's path.
    let path: String
    private let file: AppendingFile
    private var pending: [UInt8] = []

    /// The version string of the first event (tensorboard's event_file_writer.py).
    static let fileVersion = "brain.Event:2"

    /// Creates `folder` if needed and the event file in it, holding its first event (the file
    /// version at `wallTime`). `host` and `processID` name the file; their defaults are this machine's
    /// host name and this process.
    ///
    /// A resumed run passes `purgeStep`, the first step it will write again, as SummaryWriter's
    /// `purge_step`: the file then also holds an Event(step: purgeStep, file_version) and an
    /// Event(step: purgeStep, session_log: START), after which TensorBoard's reader drops every
    /// event of a step ≥ purgeStep that it read before (from the interrupted run's file), so no step
    /// is shown twice.
    init(
        folder: String, wallTime: Double = Date().timeIntervalSince1970, host: String = TensorBoardWriter.hostName(),
        processID: Int32 = getpid(), purgeStep: Int? = nil
    ) throws(NNTrainError) {
        let base = "\(folder)/events.out.tfevents.\(Self.tenDigits(Int64(wallTime))).\(host).\(processID)"
        var path = base
        var suffix = 0
        while FileManager.default.fileExists(atPath: path) {
            suffix += 1
            path = "\(base).\(suffix)"
        }
        var first = Tensorboard_Event()
        first.wallTime = wallTime
        first.fileVersion = Self.fileVersion
        var records = Self.record(first)
        if let purgeStep {
            first.step = Int64(purgeStep)
            var start = Tensorboard_Event()
            start.wallTime = wallTime
            start.step = Int64(purgeStep)
            start.sessionLog.status = .start
            records += Self.record(first) + Self.record(start)
        }
        try OutputFile.write(records, to: path)
        self.path = path
        file = try AppendingFile(path: path)
    }

    /// Adds a scalar as SummaryWriter.add_scalar does by default (summary.scalar without
    /// new_style): one Summary.Value with `tag` and `simple_value`, a Float (float32 in the proto).
    func addScalar(tag: String, value: Double, step: Int, wallTime: Double = Date().timeIntervalSince1970) {
        let value = Tensorboard_Summary.Value.with {
            $0.tag = tag
            $0.simpleValue = Float(value)
        }
        add(Tensorboard_Summary.with { $0.value = [value] }, step: step, wallTime: wallTime)
    }

    /// Adds a histogram of `values` as SummaryWriter.add_histogram with its default bins
    /// ("tensorflow") does (`histogram(_:)`). Values that make no histogram (none finite within
    /// ±1e20) are not written, where add_histogram raises; returns whether the histogram was written.
    @discardableResult
    func addHistogram(
        tag: String, values: some Collection<Float>, step: Int, wallTime: Double = Date().timeIntervalSince1970
    ) -> Bool {
        guard let histogram = Self.histogram(values) else { return false }
        let value = Tensorboard_Summary.Value.with {
            $0.tag = tag
            $0.histo = histogram
        }
        add(Tensorboard_Summary.with { $0.value = [value] }, step: step, wallTime: wallTime)
        return true
    }

    /// Adds an Event holding `summary` at `step`.
    func add(_ summary: Tensorboard_Summary, step: Int, wallTime: Double) {
        var event = Tensorboard_Event()
        event.wallTime = wallTime
        event.step = Int64(step)
        event.summary = summary
        pending += Self.record(event)
    }

    /// Appends the records added since the last flush to the file.
    func flush() throws(NNTrainError) {
        guard !pending.isEmpty else { return }
        try file.append(bytes: pending, synchronize: false)
        pending.removeAll(keepingCapacity: true)
    }

    // MARK: Records

    /// One TFRecord record of `event`: length, its masked CRC, the bytes, their masked CRC, the
    /// integers little-endian.
    static func record(_ event: Tensorboard_Event) -> [UInt8] {
        // An Event of set fields only always serializes (no required fields in proto3).
        let data: [UInt8] = (try? event.serializedBytes()) ?? []
        return record(data)
    }

    /// One TFRecord record of `data`.
    static func record(_ data: [UInt8]) -> [UInt8] {
        let length = littleEndian(UInt64(data.count))
        return length + littleEndian(CRC32C.masked(length)) + data + littleEndian(CRC32C.masked(data))
    }

    private static func littleEndian<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        (0..<(T.bitWidth / 8)).map { UInt8(truncatingIfNeeded: value >> ($0 * 8)) }
    }

    private static func tenDigits(_ seconds: Int64) -> String {
        let digits = String(seconds)
        return String(repeating: "0", count: max(0, 10 - digits.count)) + digits
    }

    /// This machine's name, as Python's socket.gethostname() gives it; "localhost" if it has none.
    static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return name.isEmpty || name.contains("/") ? "localhost" : name
    }

    // MARK: Histograms

    /// SummaryWriter's default bucket edges (`default_bins`, torch/utils/tensorboard/writer.py, from
    /// TensorFlow's histogram.cc): v = 1e-12, multiplied by 1.1 in Double while v < 1e20, giving 774
    /// positive edges v₀ < ... < v₇₇₃; the edges are -v₇₇₃ ... -v₀, 0, v₀ ... v₇₇₃ (1549 edges, 1548
    /// buckets).
    static let defaultBucketEdges: [Double] = {
        var positive: [Double] = []
        var v = 1e-12
        while v < 1e20 {
            positive.append(v)
            v *= 1.1
        }
        return positive.reversed().map { -$0 } + [0] + positive
    }()

    /// The HistogramProto of `values` as torch.utils.tensorboard.summary.make_histogram makes it with
    /// the default edges e₀ < ... < e_N (`defaultBucketEdges`), the values converted to Double first:
    ///
    /// - counts as np.histogram(values, bins: edges): bucket i counts e_i ≤ x < e_{i+1}, the last one
    ///   e_{N-1} ≤ x ≤ e_N; values outside [e₀, e_N] and NaN are in no bucket;
    /// - the support: s the first bucket with a count, t the last; `bucket` = counts[s-1 ... t] and
    ///   `bucket_limit` = e[s ... t+1] (a bucket's right edge), so the first bucket is an empty one
    ///   whose right edge is the support's left edge (when s = 0, a 0 count is put before counts[0 ... t]
    ///   and the limits are e[0 ... t+1]);
    /// - min and max of all values, num = their count, sum = Σx, sum_squares = Σx² (numpy sums
    ///   pairwise, this sums in order: the two can differ in the last bits).
    ///
    /// Nil when no value lands in a bucket (make_histogram raises "The histogram is empty").
    static func histogram(_ values: some Collection<Float>) -> Tensorboard_HistogramProto? {
        let edges = defaultBucketEdges
        let bucketCount = edges.count - 1
        var counts = [Double](repeating: 0, count: bucketCount)
        var minimum = Double.infinity
        var maximum = -Double.infinity
        var sum = 0.0
        var sumOfSquares = 0.0
        var hasNaN = false
        for value in values {
            let x = Double(value)
            if x.isNaN {
                hasNaN = true
                continue
            }
            minimum = min(minimum, x)
            maximum = max(maximum, x)
            sum += x
            sumOfSquares += x * x
            guard x >= edges[0], x <= edges[bucketCount] else { continue }
            // The number of edges ≤ x, less one, is x's bucket; x = e_N belongs to the last one.
            var low = 0
            var high = edges.count
            while low < high {
                let middle = (low + high) / 2
                if edges[middle] <= x { low = middle + 1 } else { high = middle }
            }
            counts[min(low - 1, bucketCount - 1)] += 1
        }
        guard let start = counts.firstIndex(where: { $0 > 0 }),
            let last = counts.lastIndex(where: { $0 > 0 })
        else { return nil }
        var histogram = Tensorboard_HistogramProto()
        // numpy's min, max and sum of an array holding NaN are NaN.
        histogram.min = hasNaN ? .nan : minimum
        histogram.max = hasNaN ? .nan : maximum
        histogram.num = Double(values.count)
        histogram.sum = hasNaN ? .nan : sum
        histogram.sumSquares = hasNaN ? .nan : sumOfSquares
        histogram.bucket = start > 0 ? Array(counts[(start - 1)...last]) : [0] + counts[0...last]
        histogram.bucketLimit = Array(edges[start...(last + 1)])
        return histogram
    }
}
