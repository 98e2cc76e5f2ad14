/// What the report and the dashboard pages share: the document head with its style sheet.
enum ReportPage {
    /// Opens the document and `<body>`, after a head holding `title` and the style sheet.
    static func start(title: String, into writer: inout MarkupWriter) {
        writer.startDocument()
        writer.open("head")
        writer.empty("meta", [("charset", "utf-8")])
        writer.empty("meta", [("name", "viewport"), ("content", "width=device-width, initial-scale=1")])
        writer.element("title", text: title)
        writer.open("style")
        writer.trusted(styleSheet)
        writer.close()
        writer.close()
        writer.open("body")
    }

    /// Closes `<body>` and the document.
    static func finish(_ writer: inout MarkupWriter) -> String {
        writer.close()
        return writer.finishDocument()
    }

    /// Layout niceties only: the pages read the same without it. It holds no `<`, `>` or `&`,
    /// so it needs no escaping inside `<style>` for XML.
    static let styleSheet = """

        body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #222; margin: 2em auto; max-width: 1000px; padding: 0 1em; line-height: 1.4; }
        h1 { font-size: 1.6em; margin-bottom: 0.2em; }
        h2 { border-bottom: 1px solid #ddd; padding-bottom: 0.2em; margin-top: 2em; }
        table { border-collapse: collapse; margin: 0.5em 0; }
        th, td { border: 1px solid #ddd; padding: 0.25em 0.6em; text-align: left; vertical-align: middle; }
        th { background: #f4f4f4; }
        td.number, th.number { text-align: right; font-variant-numeric: tabular-nums; }
        pre { background: #f6f6f6; border: 1px solid #e2e2e2; padding: 0.6em; overflow-x: auto; font-size: 0.85em; white-space: pre; }
        pre.message { white-space: pre-wrap; }
        article.ticket { border: 1px solid #ddd; border-left: 4px solid #b03030; padding: 0.2em 1em 0.6em; margin: 1em 0; }
        article.ticket.regressed { border-left-color: #d58000; }
        article.ticket h3 { margin: 0.5em 0; }
        dl.fields { display: grid; grid-template-columns: max-content 1fr; gap: 0.15em 1em; margin: 0; }
        dl.fields dt { color: #555; }
        dl.fields dd { margin: 0; }
        .badge { display: inline-block; font-size: 0.75em; font-weight: bold; padding: 0.1em 0.5em; border-radius: 0.3em; color: #fff; background: #b03030; vertical-align: middle; }
        .badge.regressed { background: #d58000; }
        .badge.ongoing { background: #777; }
        .no-owner { color: #999; font-style: italic; }
        .summary, .caption, .empty { color: #555; }
        svg.chart { max-width: 100%; height: auto; }
        code { font-size: 0.9em; }
        ul.hours li { margin: 0.2em 0; }

        """
}
