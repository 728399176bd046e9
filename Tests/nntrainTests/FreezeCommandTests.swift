import Foundation
import Testing

/// `training.freeze`, `freeze_epochs` and `optimizer.layer_lr` from the command line: the start line says what is
/// frozen when and the multipliers; a resume that changes what is frozen is refused in one line, exit 78.
@Suite struct FreezeCommandTests {
    @Test func theRunSaysWhatIsFrozenAndAResumeMayNotChangeIt() throws {
        let directory = try CommandLineTests.temporaryDirectory()
        try CommandLineTests.write("data: {dataset: csv, path: t.csv, target: label}\nmodel: {hidden: [4]}\n"
            + "training: {epochs: 3}\n", to: "c.yaml", in: directory)
        try CommandLineTests.write(CSVCommandTests.csv, to: "t.csv", in: directory)
        let result = try CommandLineTests.run(["run", "c.yaml", "--set", "training.freeze_epochs=1",
                                               "--set", "optimizer.layer_lr=[0.5, 1]"], in: directory)
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardOutput.split(separator: "\n").contains(
            "training.freeze: layer 0 frozen (no update, no gradient) for epoch 1, then every layer trains; "
                + "optimizer.layer_lr: lr × 0.5, 1 for layers 0, 1"))
        CommandLineTests.expectFailure(
            try CommandLineTests.run(["run", "c.yaml", "--resume", "--set", "training.freeze_epochs=2",
                                      "--set", "training.epochs=4", "--set", "optimizer.layer_lr=[0.5, 1]"], in: directory),
            status: 78, message: "runs/c/checkpoints/last.bin: cannot resume: the config changed training.freeze_epochs "
                + "since the checkpoint, on which its saved state depends (the model, the data, the optimizer's state); "
                + "expected the checkpoint's values (see them with: nntrain inspect runs/c/checkpoints/last.bin --config) "
                + "or a new run directory (output.dir)")
    }
}
