import Foundation
import Runnel
import Testing

/// The 24-hour chart: one polyline per service, one point per hour, y in proportion to the
/// counts with the largest at the top of the plot area.
@Suite struct ReportChartTests {
    struct Point: Equatable {
        var x: Double
        var y: Double
    }

    /// The chart's polylines by service, and its plot area's top and bottom.
    struct Chart {
        var lines: [(service: String, points: [Point])]
        var top: Double
        var bottom: Double
    }

    func chart(_ html: String) throws -> Chart {
        let xml = try ReportXML(html)
        let area = try #require(xml.all("rect", insideID: "chart").first { $0["class"] == "plot-area" })
        let top = try #require(Double(area["y"] ?? ""))
        let height = try #require(Double(area["height"] ?? ""))
        let lines = try xml.all("polyline", insideID: "chart").map { line in
            let points = try (line["points"] ?? "").split(separator: " ").map { pair in
                let xy = pair.split(separator: ",")
                return Point(x: try #require(Double(String(xy[0]))), y: try #require(Double(String(xy[1]))))
            }
            return (service: line["data-service"] ?? "", points: points)
        }
        return Chart(lines: lines, top: top, bottom: top + height)
    }

    @Test func everyServiceHasOnePointPerHour() throws {
        let chart = try chart(ReportFixtures.example.html())
        #expect(chart.lines.map(\.service) == ReportFixtures.services)
        for line in chart.lines {
            #expect(line.points.count == 24, "\(line.service)")
            #expect(zip(line.points, line.points.dropFirst()).allSatisfy { $0.x < $1.x }, "\(line.service)")
        }
    }

    @Test func heightsAreInProportionWithThePeakAtTheTop() throws {
        let report = ReportFixtures.example
        let chart = try chart(report.html())
        let peak = report.hourlyCounts.map(\.count).max()!
        var sawPeak = false
        for line in chart.lines {
            // Counts oldest first, as the fixture builds them (its entries are newest first).
            let counts = report.hourlyCounts.filter { $0.service == line.service }.reversed().map(\.count)
            for (point, count) in zip(line.points, counts) {
                let expected = chart.bottom - (chart.bottom - chart.top) * Double(count) / Double(peak)
                #expect(abs(point.y - expected) <= 0.05, "\(line.service): \(count)")
                if count == peak {
                    #expect(point.y == chart.top)
                    sawPeak = true
                }
            }
        }
        #expect(sawPeak)
        let yLabels = try ReportXML(report.html()).all("text", insideID: "chart").map(\.text)
        #expect(yLabels.contains(String(peak)) && yLabels.contains("0"))
    }

    @Test func missingHoursAreZeroAndHoursOutsideTheWindowAreLeftOut() throws {
        let hour = ReportFixtures.hour
        let report = ExceptionReport(title: "t", hour: hour, tickets: [], hourlyCounts: [
            .init(service: "b", hour: hour, count: 10),
            .init(service: "b", hour: hour.addingTimeInterval(-23 * 3_600), count: 5),
            .init(service: "b", hour: hour.addingTimeInterval(-24 * 3_600), count: 1_000),  // a day before: out
            .init(service: "b", hour: hour.addingTimeInterval(3_600), count: 1_000),  // after: out
            .init(service: "a", hour: hour.addingTimeInterval(-3_600 + 120), count: 4),  // within an hour: that hour
            .init(service: "a", hour: hour.addingTimeInterval(-3_600), count: 1),
        ], typesByLevel: [])
        let chart = try chart(report.html())
        #expect(chart.lines.map(\.service) == ["a", "b"])
        let a = chart.lines[0].points
        let b = chart.lines[1].points
        #expect(b.count == 24 && a.count == 24)
        #expect(b[23].y == chart.top)
        #expect(abs(b[0].y - (chart.bottom + chart.top) / 2) <= 0.05)
        #expect(b[1..<23].allSatisfy { $0.y == chart.bottom })
        #expect(abs(a[22].y - (chart.bottom - (chart.bottom - chart.top) / 2)) <= 0.05)
        #expect(a.enumerated().allSatisfy { $0.offset == 22 || $0.element.y == chart.bottom })
    }

    @Test func servicesWithOnlyZerosLieOnTheBaseline() throws {
        let report = ExceptionReport(title: "t", hour: ReportFixtures.hour, tickets: [],
                                     hourlyCounts: [.init(service: "idle", hour: ReportFixtures.hour, count: 0)], typesByLevel: [])
        let chart = try chart(report.html())
        #expect(chart.lines.count == 1)
        #expect(chart.lines[0].points.count == 24)
        #expect(chart.lines[0].points.allSatisfy { $0.y == chart.bottom })
    }

    @Test func coordinatesHaveOneDecimal() throws {
        let xml = try ReportXML(ReportFixtures.example.html())
        for line in xml.all("polyline") {
            for number in (line["points"] ?? "").split(whereSeparator: { $0 == " " || $0 == "," }) {
                let parts = number.split(separator: ".")
                #expect(parts.count == 2 && parts[1].count == 1, "\(number)")
            }
        }
    }

    @Test func theDashboardDrawsTheSameChart() throws {
        let report = try chart(ReportFixtures.example.html())
        let dashboard = try chart(ReportFixtures.exampleDashboard.html())
        #expect(report.lines.map(\.service) == dashboard.lines.map(\.service))
        #expect(report.lines.map(\.points) == dashboard.lines.map(\.points))
    }
}
