/// Everything the HTTP layer needs to know: where to listen and every limit (docs/development/style.md: every limit is
/// configuration with a sensible default).
public struct HTTPServerConfiguration: Sendable {
    public var host: String
    /// 0 = any free port (tests).
    public var port: Int
    /// An HTTPS listener with the same routes, when set.
    public var tls: TLSListener?
    public var parserLimits: HTTPParserLimits
    /// Largest request body after `Content-Encoding` is undone (413 beyond).
    public var maxDecompressedBytes: Int
    /// Open connections on the plain listener beyond this are answered 503 and closed.
    public var maxConnections: Int
    /// Open connections on the TLS listener beyond this are closed (there is no session to answer in); a cap of
    /// its own, so unfinished handshakes cannot take the plain port's slots (and its probes).
    public var maxTLSConnections: Int
    /// Open connections from one client address (both listeners together) beyond this are refused like
    /// connections over the cap.
    public var maxConnectionsPerClient: Int
    /// Request-body bytes the server holds at once, over all clients (`BodyBudget`).
    public var maxBufferedBodyBytes: Int
    /// Request-body bytes one client address may have the server hold at once.
    public var maxBufferedBodyBytesPerClient: Int
    /// Most responses outstanding on one connection (pipelining) before it stops reading requests.
    public var maxPipelineDepth: Int
    /// Unsent response bytes on one connection beyond which it stops reading requests until the client reads.
    public var maxUnsentBytes: Int
    /// The `Retry-After` seconds of a 503 the server answers (connection caps, body budget, full work pool).
    public var retryAfterSeconds: Int
    /// A started request must arrive completely within this many seconds (408 beyond).
    public var readTimeout: Double
    /// A keep-alive connection with nothing in progress is closed after this many seconds.
    public var idleTimeout: Double
    /// A response that makes no write progress for this many seconds closes the connection.
    public var writeTimeout: Double
    /// Responses at least this large are gzip-compressed when the client accepts gzip.
    public var compressionMinimumBytes: Int
    /// The `Server` header.
    public var serverName: String

    /// The HTTPS listener: its port (0 = any free port) and certificate.
    public struct TLSListener: Sendable {
        public var port: Int
        public var context: TLSContext
        public init(port: Int, context: TLSContext) {
            self.port = port
            self.context = context
        }
    }

    public init(host: String = "127.0.0.1", port: Int = 8000, tls: TLSListener? = nil,
                parserLimits: HTTPParserLimits = HTTPParserLimits(), maxDecompressedBytes: Int = 64 << 20,
                maxConnections: Int = 1024, maxTLSConnections: Int = 1024, maxConnectionsPerClient: Int = 1024,
                maxBufferedBodyBytes: Int = 256 << 20, maxBufferedBodyBytesPerClient: Int = 256 << 20,
                maxPipelineDepth: Int = 16, maxUnsentBytes: Int = 1 << 20, retryAfterSeconds: Int = 1,
                readTimeout: Double = 30, idleTimeout: Double = 60,
                writeTimeout: Double = 30, compressionMinimumBytes: Int = 1024, serverName: String = "perceiverd") {
        self.host = host
        self.port = port
        self.tls = tls
        self.parserLimits = parserLimits
        self.maxDecompressedBytes = maxDecompressedBytes
        self.maxConnections = maxConnections
        self.maxTLSConnections = maxTLSConnections
        self.maxConnectionsPerClient = maxConnectionsPerClient
        self.maxBufferedBodyBytes = maxBufferedBodyBytes
        self.maxBufferedBodyBytesPerClient = maxBufferedBodyBytesPerClient
        self.maxPipelineDepth = max(1, maxPipelineDepth)
        self.maxUnsentBytes = max(1, maxUnsentBytes)
        self.retryAfterSeconds = max(0, retryAfterSeconds)
        self.readTimeout = readTimeout
        self.idleTimeout = idleTimeout
        self.writeTimeout = writeTimeout
        self.compressionMinimumBytes = compressionMinimumBytes
        self.serverName = serverName
    }
}
