/// What one request, one client and all clients together may take: bytes, connections, threads and, for the
/// engine, input and output sizes. Every limit is at least 1 unless it says otherwise. The `limits` object of
/// the config file; docs/serving.md "Configuration" gives each key.
public struct LimitsConfiguration: Sendable, Equatable {
    /// Longest request line (414 beyond).
    public var maxRequestLineBytes = 8 * 1024
    /// Largest header section (431 beyond).
    public var maxHeaderBytes = 32 * 1024
    /// Most header fields (431 beyond).
    public var maxHeaderCount = 100
    /// Largest request body as sent (413 beyond); 64 MiB by default, as Triton.
    public var maxBodyBytes = 64 * 1024 * 1024
    /// Largest request body after decompression (413 beyond).
    public var maxDecompressedBytes = 64 * 1024 * 1024
    /// Most open connections on the plain listener; one more is answered 503 with `Retry-After` and closed.
    public var maxConnections = 1024
    /// Most open connections on the TLS listener (a cap of its own: unfinished handshakes cannot take the plain
    /// port's slots and its probes).
    public var maxTLSConnections = 1024
    /// Most open connections from one client address, over both listeners. Behind a load balancer every
    /// request comes from its address: raise this there.
    public var maxConnectionsPerClient = 512
    /// Request-body bytes held at once over all clients, from the head's declared length until the answer;
    /// a body that does not fit is refused with 503 before it is read. At least `maxBodyBytes`.
    public var maxBufferedBodyBytes = 256 * 1024 * 1024
    /// The same for one client address. At least `maxBodyBytes`.
    public var maxBufferedBodyBytesPerClient = 128 * 1024 * 1024
    /// Most responses outstanding on one connection (HTTP pipelining) before it stops reading requests.
    public var pipelineDepth = 16
    /// Unsent response bytes on one connection beyond which it stops reading requests until the client reads.
    public var maxUnsentBytes = 1 << 20
    /// `Retry-After` seconds on every 503 (connection caps, budgets, full queues and pools, draining); 0 allowed.
    public var retryAfterSeconds = 1
    /// Threads that inflate bodies, parse JSON and decode images, off the connection threads; 0 = one per core
    /// the process may use.
    public var workThreads = 0
    /// Jobs that may wait for those threads; beyond, 503. 0 allowed (no waiting).
    public var workQueue = 64
    /// Largest uploaded image (PNG or JPEG), width x height, refused from its header (413).
    public var maxImagePixels = 8192 * 8192
    /// Largest image given as a tensor to a model that takes any size (Fourier, conv, multimodal video frames),
    /// height x width per frame (400 beyond, naming the limit).
    public var maxInputPixels = 1024 * 1024
    /// Most audio samples one multimodal request may give (400 beyond).
    public var maxAudioSamples = 1 << 20
    /// Most output rows one request may ask for by `output_positions` or `queries`, per batch element (400).
    public var maxOutputRows = 262_144
    /// A started request must arrive completely within this.
    public var readTimeoutMilliseconds = 30_000
    /// A keep-alive connection with no request in progress closes after this.
    public var idleTimeoutMilliseconds = 60_000
    /// A response must be written completely within this.
    public var writeTimeoutMilliseconds = 30_000

    /// The file format's defaults.
    public init() {}
}
