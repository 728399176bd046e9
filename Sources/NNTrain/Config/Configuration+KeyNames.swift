extension Configuration {
    /// Every key of the config file as `--set` names it, depth first in the order of the key table
    /// (`seed`, `data.dataset`, `data.path`, ...): for shell completion and help.
    public static var keyNames: [String] { keys.valueEntries.map(\.path) }
}
