import Foundation
import HTTPServer
import Testing
@testable import Fuzzing

/// The multipart seeds reach what they are named after: the valid ones parse (so the fuzzer starts from bodies
/// that reach the round trip), the others are refused.
@Suite struct MultipartSeedTests {
    static let accepted: Set = ["curl_two_frames", "binary_near_delimiters", "quoted_names", "preamble_padding_epilogue",
                                "empty_form", "eight_parts", "headers_at_limits", "boundary_70"]

    @Test func validSeedsParseAndTheOthersAreRefused() throws {
        let paths = FuzzFiles.paths("Corpus", .multipart)
        #expect(Set(paths.map { URL(fileURLWithPath: $0).lastPathComponent }).isSuperset(of: Self.accepted))
        for path in paths {
            let input = [UInt8](try #require(FileManager.default.contents(atPath: path)))
            let newline = try #require(input.firstIndex(of: 0x0A))
            let outcome = MultipartFuzz.parse(Data(input[(newline + 1)...]),
                                              String(decoding: input[..<newline], as: UTF8.self), MultipartFuzz.limits)
            let name = URL(fileURLWithPath: path).lastPathComponent
            if case .failure(let error) = outcome {
                #expect(!Self.accepted.contains(name), "\(name): \(error)")
            } else {
                #expect(Self.accepted.contains(name), "\(name) parsed")
            }
        }
    }
}
