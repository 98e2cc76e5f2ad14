/// Escaping and code blocks for the reports' GitHub-flavoured Markdown.
enum MarkdownText {
    /// ASCII punctuation that can start Markdown syntax inside a line: emphasis, code, links,
    /// HTML and entities, strikethrough, GitHub's math, table pipes, and the backslash itself.
    /// CommonMark lets a backslash escape any ASCII punctuation, so escaping one that needed no
    /// escaping is harmless; `.`, `-` and `(` are left alone since they only matter at the start
    /// of a line or after `]`, which this text never is.
    private static let special: Set<Unicode.Scalar> = [
        "\\", "`", "*", "_", "[", "]", "<", ">", "&", "~", "$", "|", "#", "!",
    ]

    /// Text for one line (a heading, a list item, a table cell): special punctuation escaped,
    /// line breaks and tabs made spaces. A `|` becomes `\|`, which GitHub keeps inside a table
    /// cell; the backslash before it is escaped too, so `a\|` can't end a cell early.
    static func inline(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in ReportText.cleaned(text).unicodeScalars {
            switch scalar {
            case "\n", "\t": out += " "
            case _ where special.contains(scalar):
                out += "\\"
                out.unicodeScalars.append(scalar)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// A fenced code block holding `text` verbatim. The fence is a run of backticks longer than
    /// any run inside the text (and at least three), so no line of the text can close it.
    static func codeBlock(_ text: String, info: String = "text") -> String {
        let body = ReportText.cleaned(text)
        let fence = String(repeating: "`", count: max(3, longestBacktickRun(in: body) + 1))
        var block = fence + info + "\n" + body
        if !body.isEmpty, !body.hasSuffix("\n") { block += "\n" }
        return block + fence + "\n"
    }

    /// A code span, for text known to hold no backticks or pipes (the sparklines).
    static func codeSpan(_ text: String) -> String {
        "`" + text + "`"
    }

    static func longestBacktickRun(in text: String) -> Int {
        var longest = 0
        var run = 0
        for byte in text.utf8 {
            run = byte == UInt8(ascii: "`") ? run + 1 : 0
            longest = max(longest, run)
        }
        return longest
    }
}
