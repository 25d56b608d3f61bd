#if canImport(Glibc)
import Glibc
#else
#error("LoadedFile uses Glibc's open/fstat/pread/mmap; only Linux is supported")
#endif

/// A whole file read into memory the process owns.
///
/// A checkpoint's weights used to be served from a mapping of the file, so a plain `cp new old` that
/// truncated a served `model.safetensors` killed the daemon with SIGBUS on the next request, and a rewrite in
/// place changed its answers silently. The bytes are now read once, at load, into private anonymous pages
/// (read-only afterwards): changing or removing the file affects nothing until the model is loaded again.
/// Reading costs one pass over the file at load (the page cache usually holds it); resident memory is the
/// same as with a mapping that has been read once, since every weight is read by the warm-up anyway.
/// Immutable after `init`, hence safe to share across threads.
final class LoadedFile: @unchecked Sendable {
    /// The path the file was read from (used in error messages).
    let path: String
    /// The file's contents, page-aligned. Empty (with a nil base address) for a zero-length file.
    let bytes: UnsafeRawBufferPointer

    /// Reads `path`.
    ///
    /// - Throws: ``ModelLoadError/fileNotFound(path:)`` if the file does not exist, otherwise
    ///   ``ModelLoadError/unreadable(path:errno:)`` with the `errno` of the failed call (`EAGAIN` when the
    ///   file changed size while it was read).
    init(path: String) throws(ModelLoadError) {
        self.path = path
        // A NUL would silently truncate the C string handed to open(2) and name another file.
        guard !path.utf8.contains(0) else {
            throw .unreadable(path: path, errno: EINVAL)
        }
        let fd = try Self.openReadOnly(path)
        defer { _ = close(fd) }  // Nothing useful to do if close fails on a read-only fd.
        let size = try Self.regularFileSize(fd, path: path)
        bytes = try Self.read(fd, size: size, path: path)
    }

    deinit {
        if let base = bytes.baseAddress {
            // munmap only fails for invalid arguments, which would be our bug; nothing to recover.
            _ = munmap(UnsafeMutableRawPointer(mutating: base), bytes.count)
        }
    }

    private static func openReadOnly(_ path: String) throws(ModelLoadError) -> Int32 {
        while true {
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            if fd >= 0 { return fd }
            let code = errno
            if code == EINTR { continue }
            if code == ENOENT { throw .fileNotFound(path: path) }
            throw .unreadable(path: path, errno: code)
        }
    }

    private static func regularFileSize(_ fd: Int32, path: String) throws(ModelLoadError) -> Int {
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            throw .unreadable(path: path, errno: errno)
        }
        // open(2) succeeds on a directory and read(2) would then fail with EISDIR; report the real cause
        // instead. Pipes and devices have no meaningful size to read either.
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            let isDirectory = (info.st_mode & S_IFMT) == S_IFDIR
            throw .unreadable(path: path, errno: isDirectory ? EISDIR : EINVAL)
        }
        guard info.st_size >= 0, let size = Int(exactly: info.st_size) else {
            throw .unreadable(path: path, errno: EOVERFLOW)
        }
        return size
    }

    /// `size` bytes of `fd` in fresh anonymous pages (page-aligned, like a mapping, so alignment inside the
    /// file is alignment in memory), then made read-only.
    private static func read(_ fd: Int32, size: Int, path: String) throws(ModelLoadError) -> UnsafeRawBufferPointer {
        guard size > 0 else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        let address = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
        // MAP_FAILED is ((void *)-1), a macro Swift cannot import.
        guard let address, address != UnsafeMutableRawPointer(bitPattern: -1) else {
            throw .unreadable(path: path, errno: errno)
        }
        var offset = 0
        while offset < size {
            let count = pread(fd, address + offset, min(size - offset, 1 << 30), off_t(offset))
            if count > 0 {
                offset += count
                continue
            }
            let code = count == 0 ? EAGAIN : errno  // 0: the file shrank since fstat
            if count < 0 && code == EINTR { continue }
            _ = munmap(address, size)
            throw .unreadable(path: path, errno: code)
        }
        // One byte more would mean the file grew while it was read: a half-written file.
        var probe: UInt8 = 0
        if pread(fd, &probe, 1, off_t(size)) > 0 {
            _ = munmap(address, size)
            throw .unreadable(path: path, errno: EAGAIN)
        }
        _ = mprotect(address, size, PROT_READ)
        return UnsafeRawBufferPointer(start: address, count: size)
    }

    /// Frees the pages wholly inside `range` (bytes from the start). A bf16 model calls this once it has packed
    /// a tensor, so the f32 original stops counting towards resident memory. The range is never read again:
    /// its pages become inaccessible (`PROT_NONE`), so a read by mistake stops the process loudly instead of
    /// returning zeros.
    func release(_ range: Range<Int>) {
        guard let base = bytes.baseAddress, range.lowerBound >= 0, range.upperBound <= bytes.count else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = (Int(bitPattern: base) + range.lowerBound + page - 1) / page * page
        let end = (Int(bitPattern: base) + range.upperBound) / page * page
        guard end > start, let pointer = UnsafeMutableRawPointer(bitPattern: start) else { return }
        _ = mmap(pointer, end - start, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0)
    }
}
