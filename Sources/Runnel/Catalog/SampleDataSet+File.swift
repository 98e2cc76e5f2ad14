import Foundation

extension SampleDataSet {
    /// Generates a data set into a file, written aside and renamed into place so a reader never
    /// sees half a file.
    /// - Returns: The number of lines written.
    /// - Throws: ``RunnelError`` with code `.io` when the file cannot be written.
    @discardableResult
    package func generate(_ parameters: SampleParameters, to url: URL) throws -> Int {
        let (text, lines) = try generatedText(parameters)
        do {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(text.utf8).write(to: url, options: .atomic)
        } catch {
            throw RunnelError(.io, "cannot write the sample data file \(url.path): \(error.localizedDescription)",
                              hint: "Pass a writable path with --output")
        }
        return lines
    }

    /// The default data set's lines, generated from ``defaultParameters``, each ending in a
    /// newline: the bytes `runnel sample generate` writes with the default parameters.
    package func defaultData() throws -> Data {
        Data(try generatedText(defaultParameters).text.utf8)
    }

    private func generatedText(_ parameters: SampleParameters) throws -> (text: String, lines: Int) {
        var text = ""
        var lines = 0
        try generate(parameters) { line in
            text += line
            text += "\n"
            lines += 1
        }
        return (text, lines)
    }
}
