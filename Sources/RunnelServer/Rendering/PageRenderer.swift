import Foundation
import Hummingbird
import Mustache

/// Renders the dashboard's pages from the Mustache templates compiled into the module
/// (`Templates/`): every page starts with the `head` partial (title, inline style sheet,
/// navigation) and ends with `foot`. Values are HTML-escaped by Mustache; only the SVG charts,
/// which the server draws itself with every value escaped, go in unescaped (`{{{chart}}}`).
struct PageRenderer: Sendable {
    private let library: MustacheLibrary

    /// The templates by name, as SwiftPM compiles them in.
    private static let templates: [String: [UInt8]] = [
        "head": PackageResources.head_mustache,
        "foot": PackageResources.foot_mustache,
        "error": PackageResources.error_mustache,
        "status": PackageResources.status_mustache,
        "pipelines": PackageResources.pipelines_mustache,
        "exceptions": PackageResources.exceptions_mustache,
        "tickets": PackageResources.tickets_mustache,
        "ticket": PackageResources.ticket_mustache,
        "sagas": PackageResources.sagas_mustache,
        "saga": PackageResources.saga_mustache,
        "kv": PackageResources.kv_mustache,
        "views": PackageResources.views_mustache,
        "view": PackageResources.view_mustache,
    ]

    /// Parses every template.
    /// - Throws: Mustache's parser error naming the template, which only a broken build can cause.
    init() throws {
        var library = MustacheLibrary()
        for (name, bytes) in Self.templates {
            try library.register(String(decoding: bytes, as: UTF8.self), named: name)
        }
        self.library = library
    }

    /// The page `template` rendered with `context`, as a response.
    func page(_ template: String, _ context: [String: Any], status: HTTPResponse.Status = .ok) -> Response {
        let html = library.render(context, withTemplate: template) ?? "<!DOCTYPE html><p>missing template \(template)</p>"
        return Response(status: status, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
                        body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
    }
}
