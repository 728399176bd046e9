import Foundation
import Testing

/// The shell completion scripts (`nntrain --generate-completion-script bash|zsh|fish`) complete
/// config files, checkpoints, folders and the output files by kind, and `--set` with the config's
/// keys; the bash script is run in bash as a Tab press runs it.
@Suite struct CompletionScriptTests {
    static func script(_ shell: String) throws -> String {
        let result = try CommandLineTests.run(["--generate-completion-script", shell], in: CommandLineTests.temporaryDirectory())
        #expect(result.status == 0 && result.standardError.isEmpty, "\(result.standardError)")
        return result.standardOutput
    }

    /// A few keys of each section, as `--set` takes them.
    static let someKeys = ["seed=", "data.path=", "model.hidden=", "optimizer.lr=", "scheduler.name=", "training.clip.norm=",
                           "early_stopping.patience=", "output.dir="]

    @Test func bashCompletesEachArgumentByKind() throws {
        let bash = try Self.script("bash")
        #expect(bash.contains("-fX '!*.@(yaml|yml|txt)'"))  // run's and lr-find's config
        #expect(bash.contains("-fX '!*.@(bin)'"))  // eval's checkpoint, run --resume
        #expect(bash.contains("-fX '!*.@(csv)'"))  // eval --data and --csv, data bonus --out
        #expect(bash.contains("-fX '!*.@(svg)'"))  // eval --plot, plot --out
        #expect(bash.contains("-fX '!*.@(onnx|safetensors)'"))  // export --out
        #expect(bash.contains("__nntrain_add_completions -d"))  // plot's run directory, lr-find --out
        for key in Self.someKeys { #expect(bash.contains("'\(key)'")) }
    }

    @Test func zshAndFishCompleteEachArgumentByKind() throws {
        let zsh = try Self.script("zsh")
        #expect(zsh.contains(":config:_files -g '\\''*.yaml *.yml *.txt'\\''"))
        #expect(zsh.contains(":checkpoint:_files -g '\\''*.bin'\\''"))
        #expect(zsh.contains(":run-dir:_files -/"))
        #expect(zsh.contains("--out[The folder for lr_find.csv and lr_find.svg (default\\: the run directory).]:dir:_files -/"))
        for key in Self.someKeys { #expect(zsh.contains("'\(key)'")) }
        let fish = try Self.script("fish")
        #expect(fish.contains("set -l exts \\'yaml\\' \\'yml\\' \\'txt\\'"))
        #expect(fish.contains("*.\\'bin\\'"))
        #expect(fish.contains("__nntrain_complete_directories"))
        for key in Self.someKeys { #expect(fish.contains("\(key) ") || fish.contains("\(key)'")) }
    }

    /// The bash script sourced in bash, its completion function called with the words of a command
    /// line as bash passes them on Tab: what it offers, one per line.
    static func bashCompletions(_ words: [String], in directory: URL) throws -> [String] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["bash", "-c", """
            source <("$0" --generate-completion-script bash)
            COMP_WORDS=("${@}"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
            _nntrain nntrain "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
            printf '%s\\n' "${COMPREPLY[@]}"
            """, CommandLineTests.executable.path] + words
        process.currentDirectoryURL = directory
        let result = try CommandLineTests.collect(process)
        #expect(result.status == 0, "\(result.standardError)")
        return result.standardOutput.split(separator: "\n").map(String.init).sorted()
    }

    @Test func bashOffersConfigFilesAndTheKeysOfASection() throws {
        guard FileManager.default.isExecutableFile(atPath: "/bin/bash") else { return }
        let directory = try CommandLineTests.temporaryDirectory()
        for name in ["config.txt", "conf.yaml", "concerns.md", "other.txt", "last.bin"] {
            try Data().write(to: directory.appendingPathComponent(name))
        }
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("configs"),
                                                withIntermediateDirectories: true)
        #expect(try Self.bashCompletions(["nntrain", "run", "con"], in: directory) == ["conf.yaml", "config.txt", "configs"])
        #expect(try Self.bashCompletions(["nntrain", "eval", ""], in: directory) == ["configs", "last.bin"])
        let keys = try Self.bashCompletions(["nntrain", "run", "--set", "optim"], in: directory)
        #expect(keys.contains("optimizer.lr=") && keys.contains("optimizer.name=") && keys.contains("optimizer.momentum="))
        #expect(keys.allSatisfy { $0.hasPrefix("optimizer.") && $0.hasSuffix("=") })
        #expect(try Self.bashCompletions(["nntrain", "lr-find", "x.txt", "--set", "training.cl"], in: directory)
            == ["training.clip.norm=", "training.clip.value="])
    }
}
