import Foundation
import Testing

/// A data path that exists but is the wrong kind (a file where the Fashion-MNIST folder belongs, a
/// folder where the bonus CSV belongs, a folder without the four files) is named for what it is,
/// with what was expected, in `run`, `lr-find` and `eval --data`; a download is never suggested
/// into a file or a folder that holds something else.
@Suite struct DataPathKindCommandTests {
    static let fourFiles = "train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, "
        + "t10k-labels-idx1-ubyte.gz"

    /// A bonus folder (b.csv, b.txt) with a Fashion-MNIST config f.txt whose data.path each test sets,
    /// and the folder `data/fashion-mnist` holding four (empty) files of Fashion-MNIST's names.
    static func folder() throws -> URL {
        let directory = try CommandLineTests.bonusFolder(rows: 200, seed: 4, config: """
            data: {dataset: bonus, path: b.csv}
            model: {hidden: []}
            loss: mse
            training: {epochs: 1, batch_size: 10}
            """)
        try CommandLineTests.write("data: {dataset: fashion-mnist, path: data/fashion-mnist}\n", to: "f.txt", in: directory)
        let fashion = directory.appendingPathComponent("data/fashion-mnist")
        try FileManager.default.createDirectory(at: fashion, withIntermediateDirectories: true)
        for name in fourFiles.components(separatedBy: ", ") {
            try Data().write(to: fashion.appendingPathComponent(name))
        }
        return directory
    }

    @Test func aFileGivenForTheFashionMNISTFolderIsCalledAFile() throws {
        let directory = try Self.folder()
        for command in ["run", "lr-find"] {
            let csv = try CommandLineTests.run([command, "f.txt", "--set", "data.path=b.csv"], in: directory)
            CommandLineTests.expectFailure(csv, status: 66, message: "b.csv is a file; "
                + "expected a folder holding \(Self.fourFiles) (a CSV file is read with data.dataset: csv)")
        }
        let gz = try CommandLineTests.run(["run", "f.txt", "--set", "data.path=data/fashion-mnist/t10k-images-idx3-ubyte.gz"],
                                          in: directory)
        CommandLineTests.expectFailure(gz, status: 66, message: "data/fashion-mnist/t10k-images-idx3-ubyte.gz is a file; "
            + "expected a folder holding \(Self.fourFiles) (give the folder that holds it, data/fashion-mnist)")
    }

    @Test func aFolderWithoutTheFilesNamesThemAndSuggestsADownloadOnlyWhereNothingElseIs() throws {
        let directory = try Self.folder()
        // The parent of the dataset folder: its subfolder is named, nothing is downloaded into it.
        let parent = try CommandLineTests.run(["run", "f.txt", "--set", "data.path=data"], in: directory)
        CommandLineTests.expectFailure(parent, status: 66, message: "data holds none of the four Fashion-MNIST files; "
            + "expected a folder holding \(Self.fourFiles) (data/fashion-mnist holds them)")
        // A folder of other things: no advice to download into it.
        let runs = directory.appendingPathComponent("runs")
        try FileManager.default.createDirectory(at: runs, withIntermediateDirectories: true)
        try Data("x".utf8).write(to: runs.appendingPathComponent("notes.txt"))
        let other = try CommandLineTests.run(["run", "f.txt", "--set", "data.path=runs"], in: directory)
        CommandLineTests.expectFailure(other, status: 66, message: "runs holds none of the four Fashion-MNIST files; "
            + "expected a folder holding \(Self.fourFiles)")
        // Half a download: the missing files are named and the script fetches them.
        try FileManager.default.removeItem(at: directory.appendingPathComponent("data/fashion-mnist/t10k-labels-idx1-ubyte.gz"))
        let partial = try CommandLineTests.run(["run", "f.txt"], in: directory)
        CommandLineTests.expectFailure(partial, status: 66, message: "data/fashion-mnist lacks t10k-labels-idx1-ubyte.gz; "
            + "expected a folder holding \(Self.fourFiles) (data-scripts/fetch-fashion-mnist.sh data/fashion-mnist "
            + "fetches the missing ones)")
        // A folder that does not exist: the script downloads the files there.
        let absent = try CommandLineTests.run(["run", "f.txt", "--set", "data.path=my data"], in: directory)
        CommandLineTests.expectFailure(absent, status: 66, message: "my data: no such file or folder (expected a folder "
            + "holding \(Self.fourFiles); data-scripts/fetch-fashion-mnist.sh 'my data' downloads them)")
    }

    @Test func aFolderGivenForTheBonusCSVIsCalledAFolder() throws {
        let directory = try Self.folder()
        let run = try CommandLineTests.run(["run", "b.txt", "--set", "data.path=data/fashion-mnist"], in: directory)
        CommandLineTests.expectFailure(run, status: 66,
                                       message: "data/fashion-mnist is a folder; expected a CSV file with a header row")
        let trained = try CommandLineTests.run(["run", "b.txt", "-q"], in: directory)
        #expect(trained.status == 0, "\(trained.standardError)")
        let eval = try CommandLineTests.run(["eval", "runs/b/checkpoints/last.bin", "--data", "data"], in: directory)
        CommandLineTests.expectFailure(eval, status: 66, message: "data is a folder; expected a CSV file with a header row")
        let checkpoint = try CommandLineTests.run(["eval", "runs/b/checkpoints"], in: directory)
        CommandLineTests.expectFailure(checkpoint, status: 66, message: "runs/b/checkpoints is a folder; expected an nntrain "
            + "checkpoint (.bin)")
    }
}
