// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "perceiverd",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "perceiverd", targets: ["perceiverd"]),
        .library(name: "PerceiverEngine", targets: ["PerceiverEngine"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        // System libraries: each is imported by exactly one Swift module (docs/development/style.md).
        .systemLibrary(name: "CDNNL", path: "Sources/CDNNL"),
        .systemLibrary(name: "COpenSSL", path: "Sources/COpenSSL", pkgConfig: "openssl",
                       providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib",
                       providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CPNG", path: "Sources/CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CJPEG", path: "Sources/CJPEG", pkgConfig: "libjpeg",
                       providers: [.apt(["libjpeg62-turbo-dev"])]),
        // The one C target: libpng's and libjpeg's setjmp/longjmp error handling stays out of Swift frames.
        .target(name: "CImageCodecs", dependencies: ["CPNG", "CJPEG"]),

        // Small helpers every other module may use (the seeded SplitMix64); no dependencies.
        .target(name: "Support"),
        .target(name: "PerceiverEngine", dependencies: ["CDNNL", "JSONKit", "Support"]),
        // Strict RFC 8259 JSON over UTF-8 bytes (issue 18): a scanner, a value tree, typed number reads.
        .target(name: "JSONKit"),
        .target(name: "ImageCodecs", dependencies: ["CImageCodecs"]),
        .target(name: "HTTPServer", dependencies: [
            "COpenSSL", "CZlib",
            .product(name: "Logging", package: "swift-log"),
        ]),
        .target(name: "ModelServer", dependencies: [
            "PerceiverEngine", "HTTPServer", "ImageCodecs", "JSONKit",
            .product(name: "Logging", package: "swift-log"),
        ]),
        .executableTarget(name: "perceiverd", dependencies: [
            "PerceiverEngine", "ModelServer", "HTTPServer",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // The engine's benchmarks, and `json`: V2 JSON parsing, old path against JSONKit (issue 18).
        .executableTarget(name: "PerceiverBench", dependencies: [
            "PerceiverEngine", "ModelServer", "Support",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // HTTP load generator: its own tiny blocking client, no arrow to the server's modules.
        .executableTarget(name: "PerceiverLoad", dependencies: [
            "HTTPServer",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        // Fuzzing (issue 7): entry functions with their invariants in one library; one tiny executable per
        // target, a libFuzzer entry point with -DFUZZING (tools/qa/fuzz.sh) and a reproducer without it.
        .target(name: "Fuzzing", dependencies: ["HTTPServer", "ModelServer", "PerceiverEngine", "ImageCodecs", "JSONKit",
                                                "Support", "HTTPParserTestSupport"]),
        .executableTarget(name: "FuzzHTTPParser", dependencies: ["Fuzzing"], path: "Sources/Fuzz/HTTPParser"),
        .executableTarget(name: "FuzzChunked", dependencies: ["Fuzzing"], path: "Sources/Fuzz/Chunked"),
        .executableTarget(name: "FuzzV2Request", dependencies: ["Fuzzing"], path: "Sources/Fuzz/V2Request"),
        .executableTarget(name: "FuzzSafeTensorsHeader", dependencies: ["Fuzzing"],
                          path: "Sources/Fuzz/SafeTensorsHeader"),
        .executableTarget(name: "FuzzInflate", dependencies: ["Fuzzing"], path: "Sources/Fuzz/Inflate"),
        .executableTarget(name: "FuzzImageDecode", dependencies: ["Fuzzing"], path: "Sources/Fuzz/ImageDecode"),
        .executableTarget(name: "FuzzJSONKit", dependencies: ["Fuzzing"], path: "Sources/Fuzz/JSONKit"),
        .executableTarget(name: "FuzzMultipart", dependencies: ["Fuzzing"], path: "Sources/Fuzz/Multipart"),

        .testTarget(name: "PerceiverEngineTests", dependencies: ["PerceiverEngine", "Support"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "ImageCodecsTests", dependencies: ["ImageCodecs"]),
        .testTarget(name: "JSONKitTests", dependencies: ["JSONKit", "Support"]),
        .testTarget(name: "SupportTests", dependencies: ["Support"]),
        .target(name: "HTTPTestSupport", path: "Tests/HTTPTestSupport"),
        // What the HTTP parser gave for bytes fed in pieces: shared by the parser tests and the fuzz targets
        // without the tests depending on Fuzzing (and so on ModelServer and the engine).
        .target(name: "HTTPParserTestSupport", dependencies: ["HTTPServer"], path: "Tests/HTTPParserTestSupport"),
        .testTarget(name: "HTTPServerTests", dependencies: ["HTTPServer", "HTTPTestSupport", "HTTPParserTestSupport",
                                                            "Support"]),
        .testTarget(name: "ModelServerTests",
                    dependencies: ["ModelServer", "HTTPServer", "PerceiverEngine", "HTTPTestSupport"],
                    exclude: ["Fixtures"]),
        .testTarget(name: "FuzzingTests", dependencies: ["Fuzzing", "HTTPServer", "ModelServer", "PerceiverEngine",
                                                         "JSONKit", "HTTPParserTestSupport"],
                    resources: [.copy("Corpus"), .copy("Regressions")]),
    ]
)
