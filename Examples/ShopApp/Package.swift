// swift-tools-version: 6.1
// An application built on Runnel, as a user would write one: its own catalog, migrations
// compiled into the build, its own command line (`shopctl`) with a subcommand of its own, and
// tests. It depends on the Runnel checkout two folders up.
import Foundation
import PackageDescription

// A path dependency's identity is its folder's name, which depends on where the checkout was
// cloned; an app depending on Runnel by URL writes `package: "Runnel"` instead.
let runnel = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardizedFileURL
let runnelPackage = runnel.lastPathComponent

let package = Package(
    name: "ShopApp",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "shopctl", targets: ["shopctl"]),
    ],
    dependencies: [
        .package(path: runnel.path),
    ],
    targets: [
        // The application: events, business operations, sample data and pipelines.
        .target(
            name: "Shop",
            dependencies: [.product(name: "Runnel", package: runnelPackage)],
            resources: [.embedInCode("migrations")]
        ),
        // The shop's own subcommands, a library so the tests run them in-process.
        .target(
            name: "ShopCLI",
            dependencies: ["Shop", .product(name: "RunnelCLI", package: runnelPackage)]
        ),
        // The command line: Runnel's commands with the shop's catalog, plus `shopctl refund`.
        .executableTarget(
            name: "shopctl",
            dependencies: ["Shop", "ShopCLI", .product(name: "RunnelCLI", package: runnelPackage)]
        ),
        .testTarget(
            name: "ShopTests",
            dependencies: [
                "Shop",
                "ShopCLI",
                .product(name: "RunnelTesting", package: runnelPackage),
            ]
        ),
    ]
)
