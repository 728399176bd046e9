/// CRC-32C (Castagnoli), the checksum of TensorFlow's record files (TFRecord), and its masked form.
///
/// The polynomial is 0x1EDC6F41 (reflected: 0x82F63B78), not zlib's CRC-32 (0x04C11DB7): the two give
/// different checksums of the same bytes. Reflected input and output, initial value and final XOR
/// 0xFFFFFFFF, as RFC 3720 (iSCSI) appendix B.4 defines it. Table-driven, one byte per step:
///
///     crc = ~0
///     for byte in data: crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
///     return ~crc
///
/// where table[n] is n shifted right eight times through the reflected polynomial. No Swift package
/// on this project's machines offers it (swift-protobuf and Foundation have none, zlib only CRC-32);
/// it is checked against RFC 3720's test vectors in TensorBoardTests.
enum CRC32C {
    /// The 256 remainders of one byte, for the reflected polynomial 0x82F63B78.
    private static let table: [UInt32] = (0..<256).map { (byte: UInt32) in
        var crc = byte
        for _ in 0..<8 {
            crc = crc & 1 == 1 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1
        }
        return crc
    }

    /// The CRC-32C of `bytes`.
    static func checksum(_ bytes: some Sequence<UInt8>) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8)
        }
        return ~crc
    }

    /// The masked CRC-32C TFRecord stores: ((crc >> 15) | (crc << 17)) + 0xa282ead8, wrapping modulo
    /// 2³² (tensorflow/tsl/lib/hash/crc32c.h, `Mask`: a CRC of bytes that hold CRCs is weak, so the
    /// stored one is rotated and offset).
    static func masked(_ bytes: some Sequence<UInt8>) -> UInt32 {
        mask(checksum(bytes))
    }

    /// The mask of `masked`, on a computed CRC.
    static func mask(_ crc: UInt32) -> UInt32 {
        ((crc >> 15) | (crc << 17)) &+ 0xA282_EAD8
    }
}
