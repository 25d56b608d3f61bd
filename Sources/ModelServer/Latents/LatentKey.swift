import HTTPServer
import PerceiverEngine

/// What identifies an encode: a SHA-256 over the scope that asked (the bearer token's digest with auth on, else
/// nothing), the model's name, version and effective precision and every input the encoder sees (each one's
/// name, kind, shape and exact values, after decompression); never the inputs that only choose outputs
/// (`output_positions`, `output_positions_<modality>`, `queries`) or given `latents`.
///
/// The scope is in the key so that one tenant never reuses another's encode: a hit answers faster than a miss,
/// and a shared cache would let a client time whether someone else had sent a text or image it guesses.
struct LatentKey: Hashable, Sendable {
    let digest: [UInt8]

    /// The inputs that only select outputs or replace the encoder: not part of the key.
    static func selectsOutputs(_ name: String) -> Bool {
        name == "queries" || name == "latents" || name.hasPrefix("output_positions")
    }

    /// The key of `inputs` on model `name` for `scope` (nil when OpenSSL fails: then nothing is cached).
    init?(scope: String, model name: String, version: String, precision: Precision, inputs: ModelInputs) {
        var hasher = SHA256.Hasher()
        hasher.update("perceiverd latents v1")
        hasher.update(scope)
        hasher.update(name)
        hasher.update(version)
        hasher.update(precision.rawValue)
        for (input, value) in inputs.values.sorted(by: { $0.key < $1.key }) where !Self.selectsOutputs(input) {
            hasher.update(input)
            hasher.update(value.shape.count)
            for dimension in value.shape { hasher.update(dimension) }
            switch value {
            case .floats(let tensor):
                hasher.update("f32")
                tensor.scalars.withUnsafeBytes { hasher.update($0) }
            case .integers(let tensor):
                hasher.update("i64")
                let wide = tensor.values.map { Int64($0).littleEndian }
                wide.withUnsafeBytes { hasher.update($0) }
            }
        }
        guard let digest = hasher.finalize() else { return nil }
        self.digest = digest
    }
}
