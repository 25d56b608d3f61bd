import Fuzzing

// Built two ways. With -DFUZZING (tools/qa/fuzz.sh, with --sanitize=fuzzer) only libFuzzer's entry point, and
// libFuzzer's main runs it. Without, a reproducer: `swift run FuzzMultipart FILE|DIR...`. Not main.swift:
// --sanitize=fuzzer parses the file as a library, and even an inactive #if branch may not hold top-level code.
#if FUZZING
/// libFuzzer's entry point: runs one input through the target; a broken invariant traps.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMultipart(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    FuzzTarget.multipart.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
#else
/// The reproducer: runs each named file (or each file of a named folder) through the target.
@main enum FuzzMultipart {
    static func main() {
        FuzzTarget.multipart.reproduce(CommandLine.arguments.dropFirst())
    }
}
#endif
