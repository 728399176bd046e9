import Foundation
import Testing
@testable import NNTrain

/// metrics.csv fixtures read by header and drawn as curves.svg.
@Suite struct LearningCurvesTests {
    /// A classification run in fp16 (two extra columns), its lr decayed over two decades, the last
    /// validation loss diverged to nan.
    static let classification = """
        epoch,lr,train_loss,train_acc,val_loss,val_acc,grad_norm_mean,grad_norm_max,epoch_seconds,\
        samples_per_second,loss_scale,skipped_steps
        1,0.1,0.9,0.7,0.8,0.72,1.5,3.0,0.61,98000.5,65536.0,0
        2,0.01,0.6,0.8,0.65,0.79,1.2,2.5,0.6,99000.0,65536.0,1
        3,0.001,0.5,0.83,nan,0.81,1.1,2.0,0.6,99500.0,32768.0,0

        """

    /// A regression run without a validation split: the validation cells are empty.
    static let regression = """
        epoch,lr,train_loss,val_loss,val_mae,val_r2,grad_norm_mean,grad_norm_max,epoch_seconds,samples_per_second
        1,0.05,4.0,,,,1,1,0.1,1000
        2,0.05,2.5,,,,1,1,0.1,1000

        """

    @Test func classificationPanelsAreLossAccuracyInPercentAndLearningRate() throws {
        let folder = try TemporaryFolder()
        let curves = try LearningCurves.read(metricsPath: folder.write(Self.classification, to: "metrics.csv"))
        #expect(curves.columns.count == 12 && curves.rows.count == 3)
        let chart = curves.chart(title: "t")
        #expect(chart.panels.map(\.title) == ["Loss", "Accuracy", "Learning rate"])
        #expect(chart.panels[0].series.map(\.name) == ["train loss", "validation loss"])
        #expect(chart.panels[0].series[1].points[2].y.isNaN)
        #expect(chart.panels[1].y.title == "accuracy (%)")
        #expect(chart.panels[1].series[0].points.map(\.y) == [70, 80, 83])
        #expect(chart.panels[1].series[1].points.map(\.x) == [1, 2, 3])
        // 0.1 to 0.001 spans two decades: a log axis.
        #expect(chart.panels[2].y.scale == .log10)
        #expect(chart.panels[2].series[0].points.map(\.y) == [0.1, 0.01, 0.001])
    }

    @Test func regressionWithoutValidationDrawsOnlyWhatItHas() throws {
        let folder = try TemporaryFolder()
        let curves = try LearningCurves.read(metricsPath: folder.write(Self.regression, to: "metrics.csv"))
        #expect(curves.values(of: "val_mae") == [nil, nil])
        let chart = curves.chart(title: nil)
        #expect(chart.panels.map(\.title) == ["Loss", "Learning rate"])
        #expect(chart.panels[0].series.map(\.name) == ["train loss"])
        #expect(chart.panels[1].y.scale == .linear)  // a constant rate
        // With validation, MAE and R² get a panel each.
        let validated = Self.regression.replacing("4.0,,,,", with: "4.0,3.5,1.2,0.4,")
            .replacing("2.5,,,,", with: "2.5,2.0,0.9,0.6,")
        let full = try LearningCurves.read(metricsPath: folder.write(validated, to: "metrics.csv")).chart(title: nil)
        #expect(full.panels.map(\.title) == ["Loss", "Validation MAE", "Validation R²", "Learning rate"])
    }

    @Test func writeDrawsCurvesSVGIntoTheRunDirectory() throws {
        let folder = try TemporaryFolder()
        let run = folder.file("run & <1>")
        try FileManager.default.createDirectory(atPath: run, withIntermediateDirectories: true)
        try Self.classification.write(toFile: run + "/metrics.csv", atomically: true, encoding: .utf8)
        let path = try LearningCurves.write(runDirectory: run)
        #expect(path == run + "/curves.svg")
        let document = try SVGCheck.parse(String(contentsOfFile: path, encoding: .utf8))
        let texts = SVGCheck.texts(in: document)
        for name in ["train loss", "validation loss", "train accuracy", "validation accuracy", "learning rate",
                     "Learning curves: run & <1>", "epoch", "accuracy (%)", "learning rate (log scale)", "0.001"] {
            #expect(texts.contains(name), "\(name)")
        }
        let elsewhere = try LearningCurves.write(runDirectory: run, to: folder.file("figures/c.svg"))
        #expect(FileManager.default.fileExists(atPath: elsewhere))
    }

    @Test func malformedFilesNameTheLineAndColumn() throws {
        let folder = try TemporaryFolder()
        func error(_ text: String) throws -> NNTrainError? {
            let path = try folder.write(text, to: "metrics.csv")
            do {
                _ = try LearningCurves.read(metricsPath: path)
                return nil
            } catch {
                return error
            }
        }
        let path = folder.file("metrics.csv")
        let header = "epoch,lr,train_loss,val_loss"
        #expect(try error(header + "\n1,0.1,0.5,0.4\n2,0.1,0.4,x\n")
            == .data("\(path):3", "column 'val_loss': 'x' is not a number"))
        #expect(try error(header + "\n1,0.1,0.5\n") == .data("\(path):2", "3 fields; expected 4 as in the header"))
        #expect(try error("lr,train_loss\n0.1,0.5\n")?.message.hasPrefix("\(path):1: no 'epoch' column") == true)
        #expect(try error("epoch,lr,lr\n") == .data("\(path):1", "column 'lr' appears twice; expected each column once"))
        #expect(try error("\n\n")?.kind == .data)
        // A header alone is a run with no finished epoch: no error, a loss panel saying "no data".
        #expect(try LearningCurves.read(metricsPath: folder.write(header + "\n", to: "metrics.csv")).rows.isEmpty)
    }

    @Test func missingRunDirectoryOrMetricsIsMissingFile() throws {
        let folder = try TemporaryFolder()
        let absent = folder.file("absent")
        #expect(throws: NNTrainError.missingFile(absent, expected: "a run directory written by nntrain run")) {
            try LearningCurves.write(runDirectory: absent)
        }
        #expect(throws: NNTrainError.missingFile(folder.path + "/metrics.csv", expected: "metrics.csv, written by nntrain run")) {
            try LearningCurves.write(runDirectory: folder.path)
        }
        let file = try folder.write("x", to: "file")
        #expect(performing: { try LearningCurves.write(runDirectory: file) },
                throws: { ($0 as? NNTrainError)?.kind == .missingFile })
    }
}
