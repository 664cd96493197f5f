import DejaSupport
import Foundation
@testable import Gateway
import Logging
import SemanticCache
import Testing

@Suite("Log format")
struct LogFormatTests {
    @Test("a JSON log line is one object that parses back to what was logged, escapes included")
    func jsonLine() throws {
        let tricky = "say \"hi\"\\ then\nnew line\ttab \u{01} é 漢字 🙂"
        let line = BufferedLogHandler.jsonLine(
            time: "2026-11-30T12:00:00Z", level: .warning, label: "deja", message: tricky,
            ["status": .stringConvertible(502), "latency_ms": .stringConvertible(1.25), "coalesced": .stringConvertible(true),
             "error": .string(tricky), "message": .string("a field may not replace the message"),
             "list": .array([.string("a"), .stringConvertible(2)]), "other": .stringConvertible(Float(0.5))])
        #expect(line.hasSuffix("}\n") && line.filter { $0 == "\n" }.count == 1)
        let object = try JSONValue.parse(Data(line.utf8))
        #expect(object["message"]?.stringValue == tricky)
        #expect(object["error"]?.stringValue == tricky)
        #expect(object["level"]?.stringValue == "warning")
        #expect(object["status"]?.intValue == 502)
        #expect(object["latency_ms"]?.doubleValue == 1.25)
        #expect(object["coalesced"]?.boolValue == true)
        #expect(object["list"]?.arrayValue?.count == 2)
        #expect(object["other"]?.stringValue == "0.5", "a type it does not know is written as text")
    }
}

@Suite("Repeated failures")
struct RepeatedFailureLogTests {
    struct Full: Error, CustomStringConvertible { var description: String { "database or disk is full" } }

    @Test("the first failure warns, then one warning per interval with the count, and the end is said once")
    func throttled() {
        let capture = LogCapture()
        var log = RepeatedFailureLog(what: "cache upkeep", interval: .seconds(60))
        let start = ContinuousClock.now
        for second in 0..<150 { log.failed(Full(), capture.logger, now: start + .seconds(second)) }
        #expect(capture.messages == [
            "cache upkeep failed",
            "cache upkeep failed again (60 times since the last warning, 61 in a row)",
            "cache upkeep failed again (60 times since the last warning, 121 in a row)",
        ])
        log.succeeded(capture.logger)
        log.succeeded(capture.logger)
        #expect(capture.messages.last == "cache upkeep works again after 150 failed attempts")
        #expect(capture.messages.count == 4)
        log.failed(Full(), capture.logger, now: start + .seconds(151))
        #expect(capture.messages.last == "cache upkeep failed", "a new run of failures warns at once")
    }
}
