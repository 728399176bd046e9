import ArgumentParser
import NNTrain

/// `nntrain config --defaults`: every config key with its default, allowed values and meaning, as a
/// config file; `nntrain config --markdown`: the same as docs/config.md's reference tables.
struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Print a complete, commented config: every key with its default, the values it takes and what "
            + "it means ('nntrain config --defaults > my.yaml', then 'nntrain run my.yaml'); or the same as "
            + "Markdown (docs/config.md).")

    @Flag(help: "Print every key with its default as a commented config file.")
    var defaults = false

    @Flag(help: "Print the config reference as Markdown (what 'make docs' writes to docs/config.md).")
    var markdown = false

    func validate() throws {
        guard defaults != markdown else {
            throw ValidationError("config needs --defaults (nntrain config --defaults prints every key) "
                + "or --markdown (the reference as Markdown), one of the two")
        }
    }

    func run() {
        print(markdown ? Configuration.referenceMarkdown() : Configuration.defaultsYAML(), terminator: "")
    }
}
