import Foundation
import Testing

@testable import NNTrain

@Suite struct CRC32CTests {
    /// RFC 3720 (iSCSI), appendix B.4: the CRC-32C of four 32-byte messages, and the catalogue's
    /// check value of "123456789" (0xE3069283; zlib's CRC-32 of it is 0xCBF43926).
    @Test func rfc3720Vectors() {
        #expect(CRC32C.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
        #expect(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)) == 0x62A8_AB43)
        #expect(CRC32C.checksum((0..<32).map { UInt8($0) }) == 0x46DD_794E)
        #expect(CRC32C.checksum((0..<32).reversed().map { UInt8($0) }) == 0x113F_DB5C)
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.checksum([]) == 0)
    }

    /// The mask written out: rotate right by 15, add 0xa282ead8 modulo 2³².
    @Test func maskRotatesAndOffsets() {
        // 0x00000001 rotated right by 15 is 0x00020000; plus the delta.
        #expect(CRC32C.mask(1) == 0x0002_0000 + 0xA282_EAD8)
        // 0x80000000 rotated right by 15 is 0x00010000.
        #expect(CRC32C.mask(0x8000_0000) == 0x0001_0000 + 0xA282_EAD8)
        // The addition wraps: 0xFFFFFFFF rotates to itself, and 0xFFFFFFFF + 0xa282ead8 = 0xa282ead7 mod 2³².
        #expect(CRC32C.mask(0xFFFF_FFFF) == 0xA282_EAD7)
        #expect(CRC32C.masked(Array("123456789".utf8)) == CRC32C.mask(0xE306_9283))
    }
}
