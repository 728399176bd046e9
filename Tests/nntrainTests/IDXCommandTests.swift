import Foundation
import Testing

/// IDX image sets through the executable: configs/mnist.txt on a small MNIST-format folder of raw
/// files, an idx set of another image size trained and evaluated, and the refusals with their exit
/// statuses and one line.
@Suite struct IDXCommandTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// An IDX file of unsigned bytes: magic 0x0000_08_<dimension count>, big-endian sizes, `data`.
    static func idx(_ dimensions: [Int], _ data: [UInt8]) -> Data {
        let sizes: [UInt8] = dimensions.flatMap { size in (0..<4).map { UInt8(truncatingIfNeeded: size >> (24 - 8 * $0)) } }
        return Data([0, 0, 8, UInt8(dimensions.count)] + sizes + data)
    }

    /// Writes a raw (not gzipped) set of `train` and `test` images of `rows` × `columns` into
    /// `folder` of `directory`, labels cycling through `classes`, pixels brighter in each class's band.
    static func writeSet(_ folder: String, in directory: URL, train: Int, test: Int, rows: Int, columns: Int,
                         classes: Int) throws {
        let url = directory.appendingPathComponent(folder)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        let size = rows * columns
        for (prefix, count) in [("train", train), ("t10k", test)] {
            let labels = (0..<count).map { UInt8($0 % classes) }
            let pixels: [UInt8] = labels.enumerated().flatMap { item, label in
                (0..<size).map { pixel -> UInt8 in
                    UInt8(pixel * classes / size == Int(label) ? 200 : (pixel * 7 + item * 13) % 90)
                }
            }
            try idx([count, rows, columns], pixels).write(to: url.appendingPathComponent("\(prefix)-images-idx3-ubyte"))
            try idx([count], labels).write(to: url.appendingPathComponent("\(prefix)-labels-idx1-ubyte"))
        }
    }

    @Test func theMNISTConfigTrainsOnAnMNISTFormatFolder() throws {
        let directory = try CommandLineTests.temporaryDirectory()
        let configs = directory.appendingPathComponent("configs")
        try FileManager.default.createDirectory(at: configs, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: Self.root.appendingPathComponent("configs/mnist.txt"),
                                         to: configs.appendingPathComponent("mnist.txt"))
        try Self.writeSet("data/mnist", in: directory, train: 50, test: 20, rows: 28, columns: 28, classes: 10)
        let run = try CommandLineTests.run(["run", "configs/mnist.txt", "-q", "--set", "training.epochs=2"], in: directory)
        #expect(run.status == 0, "\(run.standardError)")
        let eval = try CommandLineTests.run(["eval", "runs/mnist/checkpoints/last.bin"], in: directory)
        #expect(eval.status == 0, "\(eval.standardError)")
        #expect(eval.standardOutput.contains("784-256-128-10 relu"))
    }

    /// 4×9 images in 5 classes: trained, evaluated, and evaluated on a folder of 9×4 images (refused,
    /// naming both sizes).
    @Test func anIDXSetOfAnotherSizeTrainsAndEvaluates() throws {
        let directory = try CommandLineTests.temporaryDirectory()
        try Self.writeSet("set", in: directory, train: 60, test: 20, rows: 4, columns: 9, classes: 5)
        try Self.writeSet("tall", in: directory, train: 5, test: 5, rows: 9, columns: 4, classes: 5)
        try CommandLineTests.write("""
            data: {dataset: idx, path: set, class_names: [a, b, c, d, e], augment: {shift: 1, hflip: true}}
            model: {hidden: [8]}
            training: {epochs: 2, batch_size: 10}
            """, to: "c.txt", in: directory)
        let run = try CommandLineTests.run(["run", "c.txt", "-q"], in: directory)
        #expect(run.status == 0, "\(run.standardError)")
        let eval = try CommandLineTests.run(["eval", "runs/c/checkpoints/last.bin"], in: directory)
        #expect(eval.status == 0, "\(eval.standardError)")
        #expect(eval.standardOutput.contains("36-8-5 relu"))
        let tall = try CommandLineTests.run(["eval", "runs/c/checkpoints/last.bin", "--data", "tall"], in: directory)
        CommandLineTests.expectFailure(tall, status: 65, message: "runs/c/checkpoints/last.bin: the model takes images of "
            + "4×9 pixels but tall holds images of 9×4; expected images of the size the checkpoint was trained on")
    }

    @Test func refusalsNameTheirPlace() throws {
        let directory = try CommandLineTests.temporaryDirectory()
        try CommandLineTests.write("seed: 1\ndata: {dataset: idx}\n", to: "c.txt", in: directory)
        let noPath = try CommandLineTests.run(["run", "c.txt"], in: directory)
        CommandLineTests.expectFailure(noPath, status: 78, message: "c.txt:2: data.path is required for data.dataset idx; "
            + "expected e.g. data.path: data/my-set")
        try Self.writeSet("set", in: directory, train: 4, test: 2, rows: 3, columns: 3, classes: 4)
        try CommandLineTests.write("data: {dataset: idx, path: set, class_names: [x, y, z]}\n", to: "c.txt", in: directory)
        let label = try CommandLineTests.run(["run", "c.txt"], in: directory)
        CommandLineTests.expectFailure(label, status: 65, message: "set/train-labels-idx1-ubyte: byte 11: label 3 of item 3 "
            + "is out of range; expected 0...2")
    }
}
