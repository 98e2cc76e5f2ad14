import CRunnelChecksum

/// CRC-32C (Castagnoli), the checksum of Kafka's RecordBatch v2: reflected polynomial
/// 0x82F63B78, initial value and final XOR 0xFFFFFFFF.
///
/// Uses the CPU's CRC-32C instruction when it has one (several GB/s); otherwise slicing-by-8,
/// where eight 256-entry tables let the loop fold eight bytes per step (about 1.2 GB/s).
package enum CRC32C {
    /// Whether the CPU instruction is used.
    package static let usesHardware = runnel_crc32c_has_hardware() == 1

    /// Eight 256-entry tables, one after another.
    private static let table: [UInt32] = {
        var tables = [[UInt32]](repeating: [UInt32](repeating: 0, count: 256), count: 8)
        for n in 0..<256 {
            var crc = UInt32(n)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
            tables[0][n] = crc
        }
        for n in 0..<256 {
            for table in 1..<8 {
                let previous = tables[table - 1][n]
                tables[table][n] = (previous >> 8) ^ tables[0][Int(previous & 0xFF)]
            }
        }
        return tables.flatMap { $0 }
    }()

    /// The checksum of some bytes.
    package static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        update(0, bytes)
    }

    /// The checksum of some bytes.
    package static func checksum(_ bytes: some Sequence<UInt8>) -> UInt32 {
        let array = Array(bytes)
        return array.withUnsafeBytes { checksum($0) }
    }

    /// Continues a checksum over more bytes: `update(checksum(a), b) == checksum(a + b)`.
    package static func update(_ checksum: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        guard !usesHardware else {
            guard let base = bytes.baseAddress else { return checksum }
            return ~runnel_crc32c_hardware(~checksum, base, bytes.count)
        }
        return updateInSoftware(checksum, bytes)
    }

    /// The table-driven checksum, used when the CPU has no CRC-32C instruction (and by tests to
    /// check the two agree).
    package static func updateInSoftware(_ checksum: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var crc = ~checksum
        Self.table.withUnsafeBufferPointer { table in
            var index = 0
            let count = bytes.count
            while count - index >= 8 {
                let low = crc ^ bytes.loadUnaligned(fromByteOffset: index, as: UInt32.self).littleEndian
                let high = bytes.loadUnaligned(fromByteOffset: index + 4, as: UInt32.self).littleEndian
                crc = table[7 * 256 + Int(low & 0xFF)] ^ table[6 * 256 + Int((low >> 8) & 0xFF)]
                    ^ table[5 * 256 + Int((low >> 16) & 0xFF)] ^ table[4 * 256 + Int(low >> 24)]
                    ^ table[3 * 256 + Int(high & 0xFF)] ^ table[2 * 256 + Int((high >> 8) & 0xFF)]
                    ^ table[1 * 256 + Int((high >> 16) & 0xFF)] ^ table[Int(high >> 24)]
                index += 8
            }
            while index < count {
                crc = table[Int((crc ^ UInt32(bytes[index])) & 0xFF)] ^ (crc >> 8)
                index += 1
            }
        }
        return ~crc
    }
}
