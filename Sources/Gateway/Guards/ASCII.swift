/// Byte classes of ASCII, for the scanners that work on UTF-8 bytes (every non-ASCII byte is in
/// none of them, so a value never spans a non-ASCII character).
enum ASCII {
    @inline(__always) static func isDigit(_ b: UInt8) -> Bool { b &- 0x30 < 10 }
    @inline(__always) static func isUpper(_ b: UInt8) -> Bool { b &- 0x41 < 26 }
    @inline(__always) static func isLower(_ b: UInt8) -> Bool { b &- 0x61 < 26 }
    @inline(__always) static func isAlpha(_ b: UInt8) -> Bool { (b | 0x20) &- 0x61 < 26 }
    @inline(__always) static func isAlnum(_ b: UInt8) -> Bool { isDigit(b) || isAlpha(b) }
    /// Letters, digits and `_`: what a value must not be glued to on either side.
    @inline(__always) static func isWord(_ b: UInt8) -> Bool { isAlnum(b) || b == 0x5F }
    @inline(__always) static func isHex(_ b: UInt8) -> Bool { isDigit(b) || (b | 0x20) &- 0x61 < 6 }
    /// Letters, digits, `-` and `_`: the alphabet of API keys and base64url.
    @inline(__always) static func isToken(_ b: UInt8) -> Bool { isWord(b) || b == 0x2D }
    /// Printable ASCII other than space: what a value without spaces is made of.
    @inline(__always) static func isGraphic(_ b: UInt8) -> Bool { b &- 0x21 < 94 }
}
