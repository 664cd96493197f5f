internal import CBLAS
import Foundation

/// The instruction-set level of the vector kernels, chosen once per process.
///
/// The binary is compiled for baseline x86-64 (or arm64), so a Debian package runs everywhere;
/// the kernels for AVX2 and AVX-512 live in `CBLAS/shim.h` and are picked at run time by what
/// the CPU reports. `DEJA_SIMD` (portable, avx2, avx512, avx512vnni) lowers the level, to measure or test a
/// slower path on a fast machine; it never raises it above what the CPU has.
public enum SIMDLevel: Int32, Sendable, Comparable, CaseIterable, CustomStringConvertible, Codable {
    /// Plain C that the compiler vectorises for the baseline (SSE2 on x86-64, NEON on arm64).
    case portable = 0
    /// AVX2 with FMA: 8 floats per instruction (Haswell, Zen 1 and later).
    case avx2 = 1
    /// AVX-512 F/BW/DQ/VL: 16 floats per instruction (Skylake-SP, Zen 4 and later).
    case avx512 = 2
    /// AVX-512 with VNNI (Ice Lake-SP, Sapphire and Emerald Rapids, Zen 4): the AVX-512 float
    /// kernels, and int8 vectors multiplied as bytes (`vpdpbusd`), the query rounded to int8 too.
    case avx512vnni = 3

    /// The best level this CPU runs.
    public static let supported = SIMDLevel(rawValue: deja_simd_level()) ?? .portable

    /// The level the kernels use: ``supported``, or lower when `DEJA_SIMD` asks for it.
    public static let active: SIMDLevel = {
        guard let asked = ProcessInfo.processInfo.environment["DEJA_SIMD"], !asked.isEmpty else { return supported }
        guard let level = SIMDLevel(name: asked) else {
            FileHandle.standardError.write(Data(
                "deja: DEJA_SIMD=\(asked) is not one of portable, avx2, avx512, avx512vnni; using \(supported.name)\n".utf8))
            return supported
        }
        if level > supported {
            FileHandle.standardError.write(Data(
                "deja: DEJA_SIMD=\(asked) is beyond this CPU, which has \(supported.name); using \(supported.name)\n".utf8))
            return supported
        }
        return level
    }()

    /// Every level this CPU can run, slowest first: what the kernel tests compare.
    public static var runnable: [SIMDLevel] { allCases.filter { $0 <= supported } }

    /// The name `DEJA_SIMD` takes.
    public var name: String {
        switch self {
        case .portable: "portable"
        case .avx2: "avx2"
        case .avx512: "avx512"
        case .avx512vnni: "avx512vnni"
        }
    }

    public init?(name: String) {
        guard let level = Self.allCases.first(where: { $0.name == name.lowercased() }) else { return nil }
        self = level
    }

    public var description: String {
        switch self {
        case .portable: "portable"
        case .avx2: "AVX2+FMA"
        case .avx512: "AVX-512"
        case .avx512vnni: "AVX-512+VNNI"
        }
    }

    public static func < (a: SIMDLevel, b: SIMDLevel) -> Bool { a.rawValue < b.rawValue }

    /// Encoded by ``name`` ("avx512"), which reads better in a benchmark's JSON than a number.
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let level = SIMDLevel(name: text) else {
            throw DecodingError.dataCorrupted(.init(
                codingPath: decoder.codingPath, debugDescription: "\(text) is not one of portable, avx2, avx512, avx512vnni"))
        }
        self = level
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(name)
    }
}
