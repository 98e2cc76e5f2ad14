/// Writes XHTML (and the SVG inside it) element by element.
///
/// Going through this rather than string interpolation is what makes the pages well-formed XML:
/// every text and attribute value is escaped, every opened element is closed by ``close()``
/// (which pops the element it closes, so none can be closed twice or out of order) and empty
/// elements are written `<br/>`. Attributes are an ordered list, never a dictionary, so they
/// come out in the same order every time.
struct MarkupWriter {
    typealias Attributes = [(String, String)]

    private(set) var output = ""
    private var openElements: [String] = []

    /// Elements followed by a line break, and containers whose open tag is followed by one:
    /// only to make the source readable. Nothing else gets whitespace, so `<pre>` text and
    /// inline runs are written exactly as given.
    private static let breakAfterClose: Set<String> = [
        "html", "head", "body", "header", "nav", "section", "article", "table", "thead", "tbody", "tr",
        "th", "td", "ul", "li", "dl", "dt", "dd", "p", "h1", "h2", "h3", "h4", "pre", "title", "style",
        "meta", "svg", "g", "polyline", "line", "rect", "text", "desc", "figure", "figcaption",
    ]
    private static let breakAfterOpen: Set<String> = [
        "html", "head", "body", "header", "nav", "section", "article", "table", "thead", "tbody", "tr",
        "ul", "dl", "svg", "g", "figure",
    ]

    /// `<!DOCTYPE html>` and the open `<html>` element in the XHTML namespace.
    mutating func startDocument() {
        output += "<!DOCTYPE html>\n"
        open("html", [("xmlns", "http://www.w3.org/1999/xhtml"), ("lang", "en")])
    }

    /// Closes `<html>` and returns the page. Every other element must be closed by then.
    mutating func finishDocument() -> String {
        close()
        precondition(openElements.isEmpty, "elements left open: \(openElements)")
        return output
    }

    mutating func open(_ name: String, _ attributes: Attributes = []) {
        output += "<" + name + Self.attributeText(attributes) + ">"
        if Self.breakAfterOpen.contains(name) { output += "\n" }
        openElements.append(name)
    }

    mutating func close() {
        let name = openElements.removeLast()
        output += "</" + name + ">"
        if Self.breakAfterClose.contains(name) { output += "\n" }
    }

    /// An element holding only text.
    mutating func element(_ name: String, _ attributes: Attributes = [], text: String) {
        open(name, attributes)
        self.text(text)
        close()
    }

    /// An element with no content, as `<name …/>`.
    mutating func empty(_ name: String, _ attributes: Attributes = []) {
        output += "<" + name + Self.attributeText(attributes) + "/>"
        if Self.breakAfterClose.contains(name) { output += "\n" }
    }

    mutating func text(_ text: String) {
        output += HTMLText.escaped(text)
    }

    /// A `<pre>` block. An HTML parser drops a line feed right after `<pre>`, so one that starts
    /// the text is doubled to survive.
    mutating func preformatted(_ text: String, _ attributes: Attributes = []) {
        let cleaned = ReportText.cleaned(text)
        open("pre", attributes)
        if cleaned.hasPrefix("\n") { output += "\n" }
        self.text(cleaned)
        close()
    }

    /// Markup written by the renderers themselves, such as the style sheet. Never for input text.
    mutating func trusted(_ markup: String) {
        output += markup
    }

    private static func attributeText(_ attributes: Attributes) -> String {
        attributes.map { " " + $0.0 + "=\"" + HTMLText.attribute($0.1) + "\"" }.joined()
    }
}
