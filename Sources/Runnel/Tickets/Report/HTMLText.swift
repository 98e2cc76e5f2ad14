/// Escaping for text and attribute values in the reports' XHTML.
///
/// Everything that is not markup the renderers wrote goes through here, so a message holding
/// `<script>` or `&amp;` prints as itself, and the page stays well-formed XML.
enum HTMLText {
    /// Text content: `& < > " '` as references (quotes too, so one function serves both places),
    /// after ``ReportText/cleaned(_:)``.
    static func escaped(_ text: String) -> String {
        escape(ReportText.cleaned(text), attribute: false)
    }

    /// An attribute value (without its quotes). Line feeds and tabs are written as references as
    /// well, because an XML parser turns literal ones in attributes into spaces.
    static func attribute(_ text: String) -> String {
        escape(ReportText.cleaned(text), attribute: true)
    }

    private static func escape(_ text: String, attribute: Bool) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            // `&apos;` is XML but not HTML 4; the numeric reference is both.
            case "'": out += "&#39;"
            case "\n" where attribute: out += "&#10;"
            case "\t" where attribute: out += "&#9;"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
