/// A value found in text: its UTF-8 byte range and the detector that found it (a built-in's raw
/// value, or a custom pattern's index after the built-ins).
struct PIIMatch: Equatable, Sendable {
    var start: Int
    var end: Int
    var detector: Int
}
