/// Cleans text from exception events before it is printed. Messages and stack traces come from
/// other programs and may hold anything: Windows line ends, terminal colour codes, NUL bytes.
enum ReportText {
    /// Line ends made `\n`, and every control character other than tab and line feed replaced
    /// by U+FFFD. XML 1.0 allows no other C0 control, not even as a character reference, so this
    /// keeps the HTML well formed; in Markdown it keeps escape sequences out of a terminal.
    /// U+FFFE and U+FFFF, also outside XML's characters, are replaced too.
    static func cleaned(_ text: String) -> String {
        // Most text needs nothing: check before copying.
        guard text.unicodeScalars.contains(where: needsCleaning) else { return text }
        var out = String.UnicodeScalarView()
        var previousWasReturn = false
        for scalar in text.unicodeScalars {
            defer { previousWasReturn = scalar == "\r" }
            switch scalar {
            case "\r": out.append("\n")
            case "\n" where previousWasReturn: continue  // the `\n` of a `\r\n` already written
            case _ where needsCleaning(scalar): out.append("\u{FFFD}")
            default: out.append(scalar)
            }
        }
        return String(out)
    }

    private static func needsCleaning(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x09, 0x0A: false
        case 0x00...0x1F, 0x7F, 0xFFFE, 0xFFFF: true
        default: false
        }
    }
}
