import Testing
@testable import NNTrain

@Suite struct BLASKernelSelectionTests {
    static let avx512 = Set(["sse3", "avx", "avx2", "fma", "avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"])
    static let avx2 = Set(["sse3", "avx", "avx2", "fma"])

    @Test func asksForSkylakeXWhenOpenBLASPickedTheGenericKernelOnAnAVX512CPU() {
        #expect(BLASKernelSelection.coreTypeToRequest(cpuFlags: Self.avx512, currentKernel: "Prescott") == "SkylakeX")
        #expect(BLASKernelSelection.coreTypeToRequest(cpuFlags: Self.avx512, currentKernel: "Haswell") == "SkylakeX")
    }

    @Test func leavesAGoodChoiceAlone() {
        #expect(BLASKernelSelection.coreTypeToRequest(cpuFlags: Self.avx512, currentKernel: "SkylakeX") == nil)
        #expect(BLASKernelSelection.coreTypeToRequest(cpuFlags: Self.avx512, currentKernel: "Cooperlake") == nil)
        #expect(BLASKernelSelection.coreTypeToRequest(cpuFlags: Self.avx2, currentKernel: "Zen") == nil)
    }

    @Test func neverAsksForInstructionsTheCPULacks() {
        #expect(BLASKernelSelection.coreTypeToRequest(cpuFlags: Self.avx2, currentKernel: "Prescott") == "Haswell")
        // AVX-512 foundation without the BW/DQ/VL extensions SkylakeX kernels use (Knights Landing).
        #expect(BLASKernelSelection.coreTypeToRequest(cpuFlags: Self.avx2.union(["avx512f", "avx512cd"]),
                                                      currentKernel: "Prescott") == "Haswell")
        #expect(BLASKernelSelection.coreTypeToRequest(cpuFlags: ["sse3", "avx"], currentKernel: "Prescott") == nil)
        #expect(BLASKernelSelection.coreTypeToRequest(cpuFlags: [], currentKernel: "Prescott") == nil)
    }

    @Test func readsTheFlagsLineOfProcCpuinfo() {
        let cpuinfo = "processor\t: 0\nmodel name\t: Intel(R) Xeon(R)\nflags\t\t: fpu sse3 avx2 avx512f\nbugs\t\t: spectre_v1\n"
        #expect(BLASKernelSelection.cpuFlags(cpuinfo: cpuinfo) == ["fpu", "sse3", "avx2", "avx512f"])
        #expect(BLASKernelSelection.cpuFlags(cpuinfo: "") == [])
    }
}
