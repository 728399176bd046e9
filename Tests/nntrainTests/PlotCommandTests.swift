import Foundation
import Testing

/// `nntrain plot` as a shell script sees it.
@Suite struct PlotCommandTests {
    static let metrics = """
        epoch,lr,train_loss,train_acc,val_loss,val_acc,grad_norm_mean,grad_norm_max,epoch_seconds,samples_per_second
        1,0.1,0.9,0.7,0.8,0.72,1.5,3.0,0.61,98000.5
        2,0.05,0.6,0.8,0.65,0.79,1.2,2.5,0.6,99000.0

        """

    @Test func plotWritesCurvesSVGAndPrintsItsPath() throws {
        let directory = try CommandLineTests.temporaryDirectory()
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("runs/demo"),
                                                withIntermediateDirectories: true)
        try CommandLineTests.write(Self.metrics, to: "runs/demo/metrics.csv", in: directory)
        let result = try CommandLineTests.run(["plot", "runs/demo"], in: directory)
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardOutput == "runs/demo/curves.svg\n" && result.standardError.isEmpty)
        let svg = try String(contentsOf: directory.appendingPathComponent("runs/demo/curves.svg"), encoding: .utf8)
        #expect(svg.hasPrefix("<?xml") && svg.contains(">validation accuracy</text>"))
        let elsewhere = try CommandLineTests.run(["plot", "runs/demo", "--out", "figures/demo.svg"], in: directory)
        #expect(elsewhere.status == 0 && elsewhere.standardOutput == "figures/demo.svg\n")
        #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent("figures/demo.svg").path))
    }

    @Test func aMissingRunDirectoryExits66OnOneLine() throws {
        let result = try CommandLineTests.run(["plot", "runs/none"], in: CommandLineTests.temporaryDirectory())
        CommandLineTests.expectFailure(result, status: 66,
                                       message: "runs/none: no such file or folder "
                                           + "(expected a run directory written by nntrain run)")
    }

    @Test func aMalformedMetricsFileExits65NamingTheLine() throws {
        let directory = try CommandLineTests.temporaryDirectory()
        try CommandLineTests.write("epoch,lr\n1,fast\n", to: "metrics.csv", in: directory)
        let result = try CommandLineTests.run(["plot", "."], in: directory)
        CommandLineTests.expectFailure(result, status: 65, message: "./metrics.csv:2: column 'lr': 'fast' is not a number")
    }
}
