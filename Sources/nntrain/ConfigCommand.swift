import ArgumentParser
import NNTrain

/// `nntrain config --defaults`: every config key with its default, allowed values and meaning.
struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Print a complete, commented config: every key with its default, the values it takes and what "
            + "it means ('nntrain config --defaults > my.yaml', then 'nntrain run my.yaml').")

    @Flag(help: "Print every key with its default (required: the only thing this command prints).")
    var defaults = false

    func validate() throws {
        guard defaults else { throw ValidationError("config needs --defaults (nntrain config --defaults prints every key)") }
    }

    func run() {
        print(Configuration.defaultsYAML(), terminator: "")
    }
}
