extension Int8Quantization {
    /// Calibrates `model` (being built: issue 16).
    public static func calibrate(_ model: InferenceModel, checkpointPath: String, dataPath: String?, rows: Int,
                                 method: CalibrationMethod) throws(NNTrainError) -> Int8Quantization {
        throw NNTrainError(.internal, "int8 calibration is not built yet")
    }
}
