import Foundation

/// The JSON nntrain writes for people and scripts (summary.json, `eval --json`, `lr-find --json`):
/// pretty, keys sorted and in snake_case, slashes of paths left as they are, and the non-finite
/// numbers JSON has no word for written as the strings "inf", "-inf" and "nan".
enum ReportJSON {
    static func encode<T: Encodable>(_ value: T, naming what: String) throws(NNTrainError) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.nonConformingFloatEncodingStrategy =
            .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        do { return try encoder.encode(value) } catch {
            throw NNTrainError(.internal, "\(what): cannot encode as JSON: \(error)")
        }
    }

    /// The compact JSON of file metadata (a checkpoint's, an exported model's): one line, keys sorted,
    /// keys as the types name them, numbers in Swift's shortest round-trip form (every Double reads back
    /// to the same bits), slashes left as they are, the non-finite numbers as "inf", "-inf" and "nan".
    static func compact<T: Encodable>(_ value: T, naming what: String) throws(NNTrainError) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy =
            .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        do { return String(decoding: try encoder.encode(value), as: UTF8.self) } catch {
            throw NNTrainError(.internal, "\(what): cannot encode \(T.self) as JSON: \(error)")
        }
    }

    /// Reads JSON written by `encode` back.
    static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        decoder.nonConformingFloatDecodingStrategy =
            .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try decoder.decode(type, from: data)
    }

    /// One line saying what the JSON decoder found wrong, and where.
    static func describe(_ error: any Error) -> String {
        func keyPath(_ keys: [any CodingKey]) -> String {
            keys.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
        }
        let text: String
        switch error {
        case DecodingError.keyNotFound(let key, let context):
            text = "missing key '\(keyPath(context.codingPath + [key]))'"
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context),
            DecodingError.dataCorrupted(let context):
            let place = context.codingPath.isEmpty ? "" : "key '\(keyPath(context.codingPath))': "
            text = place + context.debugDescription
        default:
            text = "\(error)"
        }
        return text.split(whereSeparator: \.isNewline).joined(separator: " ")
    }
}
