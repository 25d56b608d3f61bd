import Foundation
import HTTPServer

/// Small JSON text helpers shared by the encoders.
public enum JSONText {
    /// `value` as a JSON string literal (RFC 8259 section 7 escapes).
    public static func quoted(_ value: String) -> String {
        jsonQuoted(value)
    }

    /// A float as a JSON number, or null when not finite.
    public static func number(_ value: Float) -> String {
        value.isFinite ? value.description : "null"
    }
}
