import Foundation

/// The JSON nntrain writes for people and scripts (summary.json, `eval --json`, `lr-find --json`):
/// pretty, keys sorted and in snake_case, slashes of paths left as they are, and the non-finite
/// numbers JSON has no word for written as the strings "inf", "-inf" and "nan".
enum ReportJSON {
    static func encode<T: Encodable>(_ value: T, naming what: String) throws(NNTrainError) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        do { return try encoder.encode(value) } catch {
            throw NNTrainError(.internal, "\(what): cannot encode as JSON: \(error)")
        }
    }

    /// Reads JSON written by `encode` back.
    static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try decoder.decode(type, from: data)
    }
}
