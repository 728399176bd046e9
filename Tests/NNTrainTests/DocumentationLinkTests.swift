import Foundation
import Testing

/// The README and the pages in docs/ link to each other, to their pictures and to sections by anchor;
/// a page moved or a heading renamed must not leave a link pointing nowhere. Every relative link
/// `[text](target)` or `![text](target)` must name a file that exists (relative to the page), and a
/// `#anchor` must be the GitHub anchor of one of that page's headings. Web links are not followed.
@Suite struct DocumentationLinkTests {
    /// The package's root folder: three levels above this file (Tests/NNTrainTests/this file).
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// README.md and every Markdown page in docs/.
    static func pages() throws -> [URL] {
        let docs = root.appendingPathComponent("docs")
        let names = try FileManager.default.contentsOfDirectory(atPath: docs.path).filter { $0.hasSuffix(".md") }.sorted()
        return [root.appendingPathComponent("README.md")] + names.map { docs.appendingPathComponent($0) }
    }

    /// The targets of a page's Markdown links and images, outside fenced code blocks.
    static func linkTargets(in markdown: String) -> [String] {
        var targets: [String] = []
        var inFence = false
        for line in markdown.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.trimmingCharacters(in: .whitespaces).hasPrefix("```") { inFence.toggle() }
            if inFence { continue }
            var rest = line[...]
            while let open = rest.range(of: "](") {
                let afterOpen = rest[open.upperBound...]
                guard let close = afterOpen.firstIndex(of: ")") else { break }
                targets.append(String(afterOpen[..<close]))
                rest = afterOpen[close...]
            }
        }
        return targets
    }

    /// GitHub's anchor of a heading: lower case, punctuation dropped (but `-` and `_`), spaces as `-`.
    static func anchor(ofHeading heading: String) -> String {
        let kept = heading.lowercased().unicodeScalars.filter {
            CharacterSet.alphanumerics.contains($0) || $0 == " " || $0 == "-" || $0 == "_"
        }
        return String(String.UnicodeScalarView(kept)).replacingOccurrences(of: " ", with: "-")
    }

    /// The anchors of every heading (`#` to `######`) of a page.
    static func anchors(in markdown: String) -> Set<String> {
        var anchors = Set<String>()
        var inFence = false
        for line in markdown.split(separator: "\n") {
            if line.hasPrefix("```") { inFence.toggle() }
            guard !inFence, line.hasPrefix("#") else { continue }
            anchors.insert(anchor(ofHeading: line.drop(while: { $0 == "#" }).trimmingCharacters(in: .whitespaces)))
        }
        return anchors
    }

    @Test func anchorsFollowGitHubsRule() {
        #expect(Self.anchor(ofHeading: "Evaluating a checkpoint: `nntrain eval`") == "evaluating-a-checkpoint-nntrain-eval")
        #expect(Self.anchor(ofHeading: "Set-up: two commands") == "set-up-two-commands")
        #expect(Self.linkTargets(in: "see [a](docs/a.md#x) and ![b](b.svg)\n```\n[c](no.md)\n```") == ["docs/a.md#x", "b.svg"])
    }

    @Test func everyRelativeLinkOfTheDocumentationResolves() throws {
        let pages = try Self.pages()
        #expect(pages.count > 1, "expected README.md and the pages of docs/")
        for page in pages {
            let text = try String(contentsOf: page, encoding: .utf8)
            let name = page.path.replacingOccurrences(of: Self.root.path + "/", with: "")
            for target in Self.linkTargets(in: text) where !target.contains("://") && !target.hasPrefix("mailto:") {
                let parts = target.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)
                let file = parts[0].isEmpty ? page : page.deletingLastPathComponent().appendingPathComponent(String(parts[0]))
                guard FileManager.default.fileExists(atPath: file.path) else {
                    Issue.record("\(name): the link \(target) names a file that does not exist")
                    continue
                }
                if parts.count == 2, file.pathExtension == "md" {
                    let headings = Self.anchors(in: try String(contentsOf: file, encoding: .utf8))
                    #expect(headings.contains(String(parts[1])), "\(name): the link \(target) names no heading of its page")
                }
            }
        }
    }
}
