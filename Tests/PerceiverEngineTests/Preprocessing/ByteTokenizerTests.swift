import Testing
@testable import PerceiverEngine

/// `ByteTokenizer` against ids and strings produced by `transformers.PerceiverTokenizer` 5.23 in the venv.
struct ByteTokenizerTests {
    let tokenizer = ByteTokenizer()

    /// (text, HF ids with special tokens). Without special tokens HF gives the same ids minus the first and last.
    static let encodings: [(String, [Int])] = [
        ("héllo [MASK] wörld", [4, 110, 201, 175, 114, 114, 117, 38, 3, 38, 125, 201, 188, 120, 114, 106, 5]),
        ("", [4, 5]),
        ("a", [4, 103, 5]),
        ("😀 emoji 👍🏽", [4, 246, 165, 158, 134, 38, 107, 115, 117, 112, 111, 38, 246, 165, 151, 147, 246, 165, 149, 195, 5]),
        ("[PAD][BOS][EOS][MASK][CLS][SEP]", [4, 0, 1, 2, 3, 4, 5, 5]),
        ("x[MASK]y", [4, 126, 3, 127, 5]),
        ("[mask] [MASK ] [[MASK]]", [4, 97, 115, 103, 121, 113, 99, 38, 97, 83, 71, 89, 81, 38, 99, 38, 97, 3, 99, 5]),
        ("[MAS[MASK]", [4, 97, 83, 71, 89, 3, 5]),
        ("[PAD", [4, 97, 86, 71, 74, 5]),
        ("[UNK]", [4, 97, 91, 84, 81, 99, 5]),
        ("a [SEP] b", [4, 103, 38, 5, 38, 104, 5]),
        ("  lead and trail  ", [4, 38, 38, 114, 107, 103, 106, 38, 103, 116, 106, 38, 122, 120, 103, 111, 114, 38, 38, 5]),
        ("tab\tnl\n", [4, 122, 103, 104, 15, 116, 114, 16, 5]),
        ("\r\n", [4, 19, 16, 5]),
        ("\u{0}", [4, 6, 5]),
        ("e\u{301}", [4, 107, 210, 135, 5]),
        ("ü", [4, 201, 194, 5]),
        ("\u{a0}x\u{3000}", [4, 200, 166, 126, 233, 134, 134, 5]),
        ("日本語", [4, 236, 157, 171, 236, 162, 178, 238, 176, 164, 5]),
    ]

    @Test(arguments: encodings)
    func encodeMatchesHF(text: String, ids: [Int]) {
        #expect(tokenizer.encode(text) == ids)
        #expect(tokenizer.encode(text, addSpecialTokens: false) == Array(ids.dropFirst().dropLast()))
    }

    /// (ids, HF decode, HF decode with skip_special_tokens=True); 0xXX + 6 spells the byte 0xXX.
    static let decodings: [([Int], String, String)] = [
        ([4, 110, 201, 175, 114, 114, 117, 38, 3, 38, 125, 201, 188, 120, 114, 106, 5],
         "[CLS]héllo [MASK] wörld[SEP]", "héllo  wörld"),
        ([0, 1, 2, 3, 4, 5], "[PAD][BOS][EOS][MASK][CLS][SEP]", ""),
        ([110, 3, 110], "h[MASK]h", "hh"),
        ([107, 6, 4], "e\u{0}[CLS]", "e\u{0}"),
        ([0xe2 + 6, 0x82 + 6, 0xac + 6], "€", "€"),
        // Invalid UTF-8: one U+FFFD per maximal invalid subpart, as Python's errors="replace".
        ([0xff + 6, 0xfe + 6], "\u{FFFD}\u{FFFD}", "\u{FFFD}\u{FFFD}"),
        ([0xe6 + 6, 0x97 + 6], "\u{FFFD}", "\u{FFFD}"),
        ([0xe6 + 6, 0x97 + 6, 0x41 + 6], "\u{FFFD}A", "\u{FFFD}A"),
        ([0xf0 + 6, 0x9f + 6, 0x98 + 6], "\u{FFFD}", "\u{FFFD}"),
        ([0xc3 + 6], "\u{FFFD}", "\u{FFFD}"),
        ([0x80 + 6, 0x80 + 6], "\u{FFFD}\u{FFFD}", "\u{FFFD}\u{FFFD}"),
        ([0xed + 6, 0xa0 + 6, 0x80 + 6], "\u{FFFD}\u{FFFD}\u{FFFD}", "\u{FFFD}\u{FFFD}\u{FFFD}"),
        ([0xc0 + 6, 0x80 + 6], "\u{FFFD}\u{FFFD}", "\u{FFFD}\u{FFFD}"),
        ([0xf4 + 6, 0x90 + 6, 0x80 + 6, 0x80 + 6], String(repeating: "\u{FFFD}", count: 4),
         String(repeating: "\u{FFFD}", count: 4)),
        ([0xe0 + 6, 0x80 + 6, 0x80 + 6], "\u{FFFD}\u{FFFD}\u{FFFD}", "\u{FFFD}\u{FFFD}\u{FFFD}"),
        // A special token inside a multi-byte sequence: decoded over the joined bytes, so skipping repairs it.
        ([246, 165, 3, 158, 134], "\u{FFFD}[MASK]\u{FFFD}\u{FFFD}", "😀"),
        ([0xe2 + 6, 0x82 + 6, 5, 0xac + 6], "\u{FFFD}[SEP]\u{FFFD}", "€"),
    ]

    @Test(arguments: decodings)
    func decodeMatchesHF(ids: [Int], text: String, skipped: String) {
        #expect(tokenizer.decode(ids).unicodeScalars.elementsEqual(text.unicodeScalars))
        #expect(tokenizer.decode(ids, skipSpecialTokens: true).unicodeScalars.elementsEqual(skipped.unicodeScalars))
    }

    /// HF raises ValueError for these; we render one U+FFFD per bad id and never skip it.
    @Test func decodeRendersOutOfRangeIdsAsReplacementCharacters() {
        #expect(tokenizer.decode([103, 262, -1, 104]) == "a\u{FFFD}\u{FFFD}b")
        #expect(tokenizer.decode([262], skipSpecialTokens: true) == "\u{FFFD}")
        // The replacement is inserted as bytes, so a truncated sequence before it gets its own U+FFFD.
        #expect(tokenizer.decode([0xe2 + 6, 999]).unicodeScalars.elementsEqual("\u{FFFD}\u{FFFD}".unicodeScalars))
    }

    @Test(arguments: ["héllo [MASK] wörld", "😀 emoji 👍🏽", "[CLS][SEP]x", "e\u{301}\r\n", ""])
    func decodeInvertsEncode(text: String) {
        let ids = tokenizer.encode(text, addSpecialTokens: false)
        #expect(tokenizer.decode(ids).unicodeScalars.elementsEqual(text.unicodeScalars))
        #expect(ids.allSatisfy { (0..<ByteTokenizer.vocabularySize).contains($0) })
    }

    @Test func specialIdsMatchHF() {
        #expect([ByteTokenizer.padID, ByteTokenizer.bosID, ByteTokenizer.eosID, ByteTokenizer.maskID,
                 ByteTokenizer.clsID, ByteTokenizer.sepID] == [0, 1, 2, 3, 4, 5])
        #expect(ByteTokenizer.vocabularySize == 262)
        #expect(ByteTokenizer.specialTokens == ["[PAD]", "[BOS]", "[EOS]", "[MASK]", "[CLS]", "[SEP]"])
    }
}
