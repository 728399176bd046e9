import Foundation
import Testing

@testable import NNTrain

/// cv.csv and cv.json's arithmetic (`CrossValidationReport`) on hand-made fold figures: the mean and
/// the population standard deviation (ddof 0) over the finished folds only, the rows, the summary line;
/// and the folds `nntrain cv` runs (`CrossValidation`).
@Suite struct CrossValidationReportTests {
    private static func trial(_ k: Int) -> SweepTrial {
        SweepTrial(number: k, overrides: [("data.folds", "4"), ("data.fold", "\(k)")], folderName: "fold-\(k)")
    }

    /// Four folds, three finished: val_loss 1, 2, 4 → mean 7/3, std √((16 + 1 + 25)/9 / 3) = √(42/27);
    /// val_acc 0.5, 0.75, 1 → mean 0.75, std √(0.125/3); test_loss 2, 2, 2 → std 0. The unfinished
    /// fold's figures (there are none) and the failed one's are left out.
    @Test func meansAndPopulationStandardDeviationsOverTheFinishedFolds() throws {
        let results = [
            FoldResult(trial: Self.trial(1), status: .finished, note: "completed", bestEpoch: 3, seconds: 1.5,
                       validation: FoldFigures(loss: 1, accuracy: 0.5), test: FoldFigures(loss: 2, accuracy: 0.25)),
            FoldResult(trial: Self.trial(2), status: .failed, note: "error: x", validation: FoldFigures(loss: 100)),
            FoldResult(trial: Self.trial(3), status: .finished, note: "early stop at epoch 2", bestEpoch: 1, seconds: 2,
                       validation: FoldFigures(loss: 2, accuracy: 0.75), test: FoldFigures(loss: 2, accuracy: 0.5)),
            FoldResult(trial: Self.trial(4), status: .finished, note: "completed", bestEpoch: 2, seconds: 0.25,
                       validation: FoldFigures(loss: 4, accuracy: 1), test: FoldFigures(loss: 2, accuracy: 0.75)),
        ]
        let report = CrossValidationReport(results: results, k: 4, seed: 7)
        #expect(report.finishedFolds == 3 && !report.isRegression)
        let valLoss = try #require(report.figures["val_loss"])
        #expect(abs(valLoss.mean - 7.0 / 3) < 1e-12 && abs(valLoss.std - (42.0 / 27).squareRoot()) < 1e-12)
        #expect(valLoss.folds == 3)
        let valAcc = try #require(report.figures["val_acc"])
        #expect(valAcc.mean == 0.75 && abs(valAcc.std - (0.125 / 3).squareRoot()) < 1e-12)
        #expect(report.figures["test_loss"] == .init(mean: 2, std: 0, folds: 3))
        #expect(report.figures["test_acc"] == .init(mean: 0.5, std: (0.125 / 3).squareRoot(), folds: 3))
        #expect(report.figures["val_mae"] == nil)
        #expect(report.csv() == """
            fold,best_epoch,val_loss,val_acc,test_loss,test_acc,seconds,status
            1,3,1.0,0.5,2.0,0.25,1.500,finished
            2,,100.0,,,,,failed
            3,1,2.0,0.75,2.0,0.5,2.000,finished
            4,2,4.0,1.0,2.0,0.75,0.250,finished

            """)
        #expect(report.summaryLine == "cv: 3 of 4 folds, val_acc 0.7500 ± 0.2041, test_acc 0.5000 ± 0.2041")
        // ddof 0, not 1: numpy's np.std([1, 2, 4]) is 1.247219..., np.std(..., ddof=1) 1.527525...
        #expect(String(format: "%.6f", valLoss.std) == "1.247219")
        let json = try JSONSerialization.jsonObject(with: report.json()) as? [String: Any]
        #expect(json?["std_ddof"] as? Int == 0 && json?["k"] as? Int == 4 && json?["seed"] as? Int == 7)
        #expect((json?["folds"] as? [[String: Any]])?.map { $0["status"] as? String }
            == ["finished", "failed", "finished", "finished"])
    }

    /// Regression: the accuracies empty, the MAE and R² of each split after the status; the summary
    /// gives the losses and the ensemble's test loss.
    @Test func regressionRowsAndSummary() throws {
        let results = [1, 2].map { k in
            FoldResult(trial: Self.trial(k), status: .finished, note: "completed", bestEpoch: k, seconds: 1,
                       validation: FoldFigures(loss: Double(k), mae: 0.5, r2: 0.9),
                       test: FoldFigures(loss: Double(2 * k), mae: 1, r2: 0.75))
        }
        var report = CrossValidationReport(results: results, k: 2, seed: 0)
        report.ensemble = .init(test: FoldFigures(loss: 2.5, mae: 1, r2: 0.8), members: [])
        #expect(report.isRegression)
        #expect(report.csv() == """
            fold,best_epoch,val_loss,val_acc,test_loss,test_acc,seconds,status,val_mae,val_r2,test_mae,test_r2
            1,1,1.0,,2.0,,1.000,finished,0.5,0.9,1.0,0.75
            2,2,2.0,,4.0,,1.000,finished,0.5,0.9,1.0,0.75

            """)
        #expect(report.figures["test_loss"] == .init(mean: 3, std: 1, folds: 2))
        #expect(report.summaryLine == "cv: 2 folds, val_loss 1.5000 ± 0.5000, test_loss 3.0000 ± 1.0000; "
            + "ensemble test_loss 2.5000")
    }

    /// The folds run the user's --set values, then data.folds and data.fold, each in fold-k; output.dir
    /// only names RUN_DIR; data.folds and data.fold are the command's.
    @Test func theFoldsAndTheirOverrides() throws {
        let cv = try CrossValidation(folds: 3, arguments: ["optimizer.lr=0.1", "output.dir=runs/x", "model.hidden=[4, 2]"])
        #expect(cv.trials.map(\.arguments) == (1...3).map {
            ["optimizer.lr=0.1", "model.hidden=[4, 2]", "data.validation_split=null", "data.folds=3", "data.fold=\($0)"]
        })
        #expect(cv.trials.map(\.folderName) == ["fold-1", "fold-2", "fold-3"])
        for refused in ["data.fold=2", "data.folds=4", "data.validation_split=0.2", "nothing"] {
            #expect(throws: NNTrainError.self) { try CrossValidation(folds: 3, arguments: [refused]) }
        }
    }
}
