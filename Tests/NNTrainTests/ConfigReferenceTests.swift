import Foundation
import Testing
@testable import NNTrain

/// docs/config.md is written from the key table (`Configuration.referenceMarkdown()`, `make docs`);
/// these tests fail when the committed file and the table disagree, or when the reference leaves a key out.
@Suite struct ConfigReferenceTests {
    /// The package's docs/config.md, found from this file's place (Tests/NNTrainTests/).
    static let referenceFile = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("docs/config.md")

    @Test func committedReferenceMatchesTheKeyTable() throws {
        let committed = try String(contentsOf: Self.referenceFile, encoding: .utf8)
        #expect(committed == Configuration.referenceMarkdown(), "docs/config.md is stale: run 'make docs' and commit it")
    }

    @Test func everyKeyHasARowWithItsValuesAndMeaning() {
        let rows = Configuration.referenceMarkdown().split(separator: "\n").filter { $0.hasPrefix("| `") }
        for (path, key) in Configuration.keys.valueEntries {
            let row = rows.first { $0.hasPrefix("| `\(path)` |") }
            #expect(row?.contains(key.allowed) == true, "\(path)")
            #expect(row?.contains(key.help.replacing("|", with: "\\|")) == true, "\(path)")
        }
    }

    /// Defaults come from the same declarations as `nntrain config --defaults`; a key applying only to
    /// other choices says so, and a key that may be left out says what that means.
    @Test func rowsShowDefaultsConditionsAndUnsetMeanings() {
        let lines = Configuration.referenceMarkdown().split(separator: "\n").map(String.init)
        #expect(lines.contains("| `optimizer.name` | `adam` | one of: sgd, adam, adamw, rmsprop, adagrad, nadam, adadelta, "
            + "adamax, radam, rprop, asgd, lbfgs | "
            + "the torch.optim optimizer |"))
        #expect(lines.contains("| `optimizer.momentum` | `0.0` | a number >= 0 and < 1 | "
            + "momentum factor; only for optimizer.name: sgd, rmsprop |"))
        #expect(lines.contains("| `training.clip.norm` |  | a number > 0 | "
            + "clip_grad_norm_: scale g by min(1, norm/(\\|\\|g\\|\\| + 1e-6)); left out: off |"))
        #expect(lines.contains("## scheduler"))
    }
}
