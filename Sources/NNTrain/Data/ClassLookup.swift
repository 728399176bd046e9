/// How a target text finds its class. Classes that are all numbers are matched by value, as pandas
/// reads such a column as numbers and scikit-learn's LabelEncoder then sees `1` and `1.0` as one
/// class: each number has one canonical text (`canonical`), used for counting distinct values, for
/// class names, and for the lookup of training, test, eval and predict targets. Classes holding any
/// other text are matched as text (pandas keeps such a column as strings: `1` and `1.0` differ).
struct ClassLookup {
    /// The label of each class name's key.
    private let labels: [String: Int32]
    /// Whether every class name is a number, so targets are matched by value.
    let isNumeric: Bool

    init(classNames: [String]) {
        isNumeric = !classNames.isEmpty && classNames.allSatisfy { CSVDataset.number($0) != nil }
        var labels: [String: Int32] = [:]
        for (label, name) in classNames.enumerated() {
            let key = isNumeric ? Self.canonical(name) : name
            if labels[key] == nil { labels[key] = Int32(label) }
        }
        self.labels = labels
    }

    /// The label of `text`, nil when it names no class.
    func label(of text: String) -> Int32? {
        labels[isNumeric ? Self.canonical(text) : text]
    }

    /// The one text of a number's value: a whole number within ±2^53 as its integer text (`1.0`,
    /// `1e0` and `01` are "1"; `-0` is "0"), any other number as Swift's shortest round-trip
    /// description of the Double (`1.50` is "1.5"); `text` unchanged when it is not a number.
    static func canonical(_ text: String) -> String {
        guard let value = CSVDataset.number(text) else { return text }
        if value == value.rounded(), value.magnitude <= 9_007_199_254_740_992 { return String(Int64(value)) }
        return value.description
    }
}
