// libFuzzer target for the checkpoint reader (see ReaderFuzzing and `make fuzz`). Built only with
// NNTRAIN_FUZZ=1: swift build -c debug -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library --product FuzzCheckpoint
import CLibFuzzer
import ReaderFuzzing

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    LibFuzzerEntry.testOneInput(.checkpoint, data, size)
}

@_cdecl("LLVMFuzzerInitialize")
public func initialize(
    _ argc: UnsafeMutablePointer<CInt>?, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?
) -> CInt {
    LibFuzzerEntry.initialize(.checkpoint)
}

/// The entry point SwiftPM links a debug executable with (main is an alias of it); it hands over
/// to libFuzzer's driver.
@_cdecl("FuzzCheckpoint_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var (count, arguments) = (argc, argv)
    return LLVMFuzzerRunDriver(&count, &arguments) { data, size in testOneInput(data, size) }
}
