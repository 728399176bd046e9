/// Words and commands quoted the way a POSIX shell reads them back, for every hint nntrain prints
/// that a person pastes: `nntrain run 'my configs/sgd.yaml' --set 'model.hidden=[64, 32]' --resume`.
///
/// The rule is Python's `shlex.quote`: a word made only of `A-Z a-z 0-9 _ @ % + = : , . / -` is
/// left as it is; any other word, and the empty word, is put in single quotes, inside which a shell
/// treats every character literally, and each single quote in it is written `'\''` (close the
/// quotes, an escaped quote, reopen them). sh, bash, dash and zsh read the result back as the
/// original word (fish too, unless the word holds a backslash).
public enum ShellQuoting {
    /// `word` as one shell word: unchanged when it needs no quoting, single-quoted otherwise.
    public static func quote(_ word: String) -> String {
        guard word.isEmpty || !word.unicodeScalars.allSatisfy(isSafe) else { return word }
        return "'" + word.replacing("'", with: "'\\''") + "'"
    }

    /// `words` quoted one by one and joined with spaces: a command line to paste.
    public static func command(_ words: [String]) -> String {
        words.map(quote).joined(separator: " ")
    }

    /// The characters no shell treats specially anywhere in a word (shlex's `[\w@%+=:,./-]`, ASCII).
    private static func isSafe(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "A"..."Z", "a"..."z", "0"..."9", "_", "@", "%", "+", "=", ":", ",", ".", "/", "-": true
        default: false
        }
    }
}
