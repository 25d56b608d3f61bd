/// The Perceiver byte-level tokenizer, with no vocab file: `transformers`' `PerceiverTokenizer`
/// (docs/reference/perceiver.md B.11).
///
/// Ids 0–5 are the special tokens `[PAD]`, `[BOS]`, `[EOS]`, `[MASK]`, `[CLS]`, `[SEP]`; the UTF-8 byte `b` is id
/// `b + 6`, so the model's vocabulary has 262 entries. (HF's `tokenizer.vocab_size` says 256; `len(tokenizer)` and
/// `config.vocab_size` say 262.)
public struct ByteTokenizer: Sendable {
    /// `[PAD]`: padding (attention mask 0).
    public static let padID = 0
    /// `[BOS]`: reserved, never added by `encode`.
    public static let bosID = 1
    /// `[EOS]`: reserved, never added by `encode`.
    public static let eosID = 2
    /// `[MASK]`: the masked-language-model mask.
    public static let maskID = 3
    /// `[CLS]`: prepended by `encode(_:addSpecialTokens: true)`.
    public static let clsID = 4
    /// `[SEP]`: appended by `encode(_:addSpecialTokens: true)`.
    public static let sepID = 5
    /// Offset added to a UTF-8 byte to get its id (the number of special tokens).
    public static let byteOffset = 6
    /// Number of ids: 6 special tokens + 256 bytes.
    public static let vocabularySize = 262

    /// The literal text of each special token, indexed by id (`specialTokens[3] == "[MASK]"`).
    public static let specialTokens = ["[PAD]", "[BOS]", "[EOS]", "[MASK]", "[CLS]", "[SEP]"]

    /// The UTF-8 bytes of `specialTokens`, for matching inside encoded text.
    private static let specialTokenBytes: [[UInt8]] = specialTokens.map { Array($0.utf8) }

    /// Creates the tokenizer (it has no state).
    public init() {}

    /// Token ids for `text`: its UTF-8 bytes + 6, with literal special-token strings mapped to their ids.
    ///
    /// Mirrors `PerceiverTokenizer.__call__`: the added-token trie first splits out exact, case-sensitive
    /// occurrences of `[PAD]` … `[SEP]` (so `"x[MASK]y"` is `x`, 3, `y`; surrounding spaces are kept), then every
    /// other byte maps to `byte + 6`. No Unicode normalisation is applied.
    /// - Parameters:
    ///   - text: any string.
    ///   - addSpecialTokens: wrap as `[CLS] … [SEP]` (`build_inputs_with_special_tokens`), HF's default.
    /// - Returns: `(L)` ids in `0..<262`.
    public func encode(_ text: String, addSpecialTokens: Bool = true) -> [Int] {
        let bytes = Array(text.utf8)
        var ids: [Int] = []
        ids.reserveCapacity(bytes.count + 2)
        if addSpecialTokens { ids.append(Self.clsID) }
        var i = 0
        while i < bytes.count {
            // Special tokens start with "[" and hold no other bracket, so matches cannot overlap and a
            // left-to-right scan finds the same splits as HF's trie.
            if bytes[i] == UInt8(ascii: "["), let id = Self.specialToken(in: bytes, at: i) {
                ids.append(id)
                i += Self.specialTokenBytes[id].count
            } else {
                ids.append(Int(bytes[i]) + Self.byteOffset)
                i += 1
            }
        }
        if addSpecialTokens { ids.append(Self.sepID) }
        return ids
    }

    /// The text for `ids`.
    ///
    /// Mirrors `PerceiverTokenizer.decode` (`convert_tokens_to_string`): special ids become their literal text,
    /// the bytes of the whole sequence are concatenated and decoded as UTF-8 with `errors="replace"`, which puts
    /// one U+FFFD for each maximal invalid subpart (Unicode "best practice", the rule CPython and Swift's
    /// decoder share): `FF FE` → two U+FFFD, the truncated `E6 97` → one, `ED A0 80` → three.
    /// Ids outside `0..<262` (HF raises `ValueError`) decode to one U+FFFD each and are never skipped.
    /// - Parameters:
    ///   - ids: `(L)` token ids.
    ///   - skipSpecialTokens: drop ids 0–5 before decoding, so bytes on either side join up.
    public func decode(_ ids: [Int], skipSpecialTokens: Bool = false) -> String {
        let replacement = Array("\u{FFFD}".utf8)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(ids.count)
        for id in ids {
            switch id {
            case 0..<Self.byteOffset:
                if !skipSpecialTokens { bytes += Self.specialTokenBytes[id] }
            case Self.byteOffset..<Self.vocabularySize:
                bytes.append(UInt8(id - Self.byteOffset))
            default:
                bytes += replacement
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The id of the special token whose text starts at `bytes[start]`, if any.
    private static func specialToken(in bytes: [UInt8], at start: Int) -> Int? {
        specialTokenBytes.firstIndex { token in
            bytes.count - start >= token.count && bytes[start..<(start + token.count)].elementsEqual(token)
        }
    }
}
