import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// A page parsed with `XMLParser` into a flat list of elements in document order: enough to
/// check well-formedness and find things, without `XMLDocument` (missing on Linux).
struct ReportXML {
    struct Element {
        var name: String
        var attributes: [String: String]
        /// All text inside, descendants' included, as the parser decoded it.
        var text: String
        /// Indices of the enclosing elements, outermost first.
        var ancestors: [Int]

        subscript(attribute: String) -> String? { attributes[attribute] }
    }

    let elements: [Element]

    /// Parses `markup`, or throws the parser's error with its line and column.
    init(_ markup: String) throws {
        let collector = Collector()
        let parser = XMLParser(data: Data(markup.utf8))
        parser.delegate = collector
        guard parser.parse() else {
            throw ParseFailure(
                description: "line \(parser.lineNumber), column \(parser.columnNumber): "
                    + String(describing: parser.parserError ?? collector.error))
        }
        elements = collector.elements
    }

    struct ParseFailure: Error, CustomStringConvertible {
        var description: String
    }

    func all(_ name: String) -> [Element] {
        elements.filter { $0.name == name }
    }

    func index(ofID id: String) -> Int? {
        elements.firstIndex { $0["id"] == id }
    }

    /// Elements named `name` inside the element at `index`.
    func all(_ name: String, inside index: Int) -> [Element] {
        elements.filter { $0.name == name && $0.ancestors.contains(index) }
    }

    /// Elements named `name` inside the element with `id`.
    func all(_ name: String, insideID id: String) -> [Element] {
        guard let index = index(ofID: id) else { return [] }
        return all(name, inside: index)
    }

    private final class Collector: NSObject, XMLParserDelegate {
        var elements: [Element] = []
        var open: [Int] = []
        var error: Error?

        func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
                    qualifiedName qName: String?, attributes attributeDict: [String: String] = [:]) {
            elements.append(Element(name: elementName, attributes: attributeDict, text: "", ancestors: open))
            open.append(elements.count - 1)
        }

        func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName qName: String?) {
            open.removeLast()
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            for index in open { elements[index].text += string }
        }

        func parser(_ parser: XMLParser, parseErrorOccurred parseError: Error) {
            error = parseError
        }
    }
}
