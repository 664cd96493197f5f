public import VectorIndex

/// Seeded random text from the corners of Unicode that text code trips on: combining marks,
/// right-to-left scripts, spacing marks, CJK, emoji with joiners and variation selectors, digits
/// of other scripts, compatibility forms that NFKC rewrites, control and private-use characters.
public enum RandomText {
    static let ranges: [ClosedRange<UInt32>] = [
        0x20...0x7E, 0x20...0x7E, 0x00...0x1F, 0x80...0xFF, 0x300...0x36F, 0x370...0x3FF, 0x400...0x4FF,
        0x590...0x5FF, 0x600...0x6FF, 0x660...0x669, 0x900...0x97F, 0x1E00...0x1EFF, 0x2000...0x206F,
        0x2070...0x209F, 0x2460...0x24FF, 0x3000...0x303F, 0x3040...0x30FF, 0x4E00...0x4FFF, 0xAC00...0xAD00,
        0xE000...0xE0FF, 0xFB00...0xFB4F, 0xFDD0...0xFDEF, 0xFE00...0xFE0F, 0xFF00...0xFFEF, 0x1F300...0x1FAFF,
        0x1D400...0x1D7FF, 0xE0000...0xE007F, 0x10FFF0...0x10FFFF,
    ]

    /// Up to `maxLength` scalars; the ranges above weighted equally, ASCII twice.
    public static func string(_ rng: inout SplitMix64, maxLength: Int = 40) -> String {
        var scalars = String.UnicodeScalarView()
        for _ in 0..<Int.random(in: 0...maxLength, using: &rng) {
            let range = ranges.randomElement(using: &rng)!
            if let scalar = Unicode.Scalar(UInt32.random(in: range, using: &rng)) { scalars.append(scalar) }
        }
        return String(scalars)
    }
}
