public enum NNTrainVersion { public static let string = "0.1.0" }
