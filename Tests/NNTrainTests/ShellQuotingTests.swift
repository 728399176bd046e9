import Foundation
import NNTrain
import Testing

/// ShellQuoting against hand-written quotings, and against /bin/sh reading its output back.
@Suite struct ShellQuotingTests {
    @Test func safeWordsStayAsTheyAre() {
        for word in ["nntrain", "--resume", "configs/fashion-mnist.txt", "training.max_seconds=1e-9", "a@b%c+d:e,f", "-", "."] {
            #expect(ShellQuoting.quote(word) == word)
        }
    }

    @Test func otherWordsAreSingleQuotedWithQuotesWrittenAsQuoteBackslashQuoteQuote() {
        #expect(ShellQuoting.quote("") == "''")
        #expect(ShellQuoting.quote("model.hidden=[64, 32]") == "'model.hidden=[64, 32]'")
        #expect(ShellQuoting.quote("my configs/sgd.yaml") == "'my configs/sgd.yaml'")
        #expect(ShellQuoting.quote("it's") == "'it'\\''s'")
        #expect(ShellQuoting.quote("'") == "''\\'''")
        #expect(ShellQuoting.quote("$HOME") == "'$HOME'")
        #expect(ShellQuoting.quote("~/runs") == "'~/runs'")
        #expect(ShellQuoting.quote("a*b") == "'a*b'")
        #expect(ShellQuoting.quote("data.path=\"x\"") == "'data.path=\"x\"'")
        #expect(ShellQuoting.quote("é.txt") == "'é.txt'")  // shlex's safe set is ASCII
        #expect(ShellQuoting.command(["nntrain", "run", "my cfg.txt", "--set", "model.hidden=[4, 3]", "--resume"])
            == "nntrain run 'my cfg.txt' --set 'model.hidden=[4, 3]' --resume")
    }

    /// Every word, however awkward, comes back from `/bin/sh` (dash on Debian) as it went in.
    @Test func shReadsTheCommandBackAsTheOriginalWords() throws {
        let words = ["plain", "two words", "it's", "''", "\"double\"", "back\\slash", "$HOME", "`date`", "a;b|c&d", "*", "~",
                     "tab\there", "line\nbreak", "[64, 32]", "#comment", "é", "", "!event", "x=y z"]
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "for word in " + ShellQuoting.command(words) + "; do printf '%s\\0' \"$word\"; done"]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(data.split(separator: 0, omittingEmptySubsequences: false).dropLast().map { String(decoding: $0, as: UTF8.self) }
            == words)
    }
}
