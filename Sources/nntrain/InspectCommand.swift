import ArgumentParser
import Foundation
import NNTrain

/// `nntrain inspect CHECKPOINT`: what a checkpoint is, from the file alone (see CheckpointDescription).
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Describe a checkpoint: model and parameter count, when and why it was written, the best figure, "
            + "its data and CRC-32, the nntrain and format versions; or print its config.")

    @Argument(help: ArgumentHelp("The checkpoint, e.g. runs/fashion-mnist/checkpoints/last.bin.", valueName: "checkpoint"),
              completion: .checkpointFile)
    var checkpoint: String

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    @Flag(help: "Print only the checkpoint's resolved config (YAML), usable as a config file.")
    var config = false

    func validate() throws {
        guard !(json && config) else { throw ValidationError("--json and --config exclude each other: choose one output") }
    }

    func run() throws {
        if config {
            print(try Checkpoint.read(path: checkpoint).configurationYAML, terminator: "")
            return
        }
        let description = try CheckpointDescription.read(path: checkpoint)
        if json {
            print(String(decoding: try description.json(), as: UTF8.self))
        } else {
            print(description.text(), terminator: "")
        }
    }
}
