/// What decides a pass's oneDNN team size while it runs: asked on the pass's thread before every primitive
/// (hundreds per pass), so a server can move cores between passes of different models at primitive
/// boundaries. oneDNN primitives cannot be resized while they run; each count gets its own primitives.
public protocol ThreadBudget: AnyObject, Sendable {
    /// Threads (at least 1) for the next primitive of the pass. Called often: it must be cheap when nothing
    /// changed.
    func threadsForNextPrimitive() -> Int
}
