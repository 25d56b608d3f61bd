#if canImport(Glibc)
import Glibc
#else
#error("MappedFile uses Glibc's open/fstat/mmap; only Linux is supported")
#endif

/// A whole file mapped read-only into memory.
///
/// The mapping is `MAP_PRIVATE` and `PROT_READ`, so nothing we do can write to the file. The
/// descriptor is closed right after `mmap` succeeds: POSIX keeps a mapping valid after its
/// descriptor is closed, so holding one descriptor per shard would only waste descriptors.
/// Immutable after `init`, hence safe to share across threads.
final class MappedFile: @unchecked Sendable {
    /// The path the file was opened with (used in error messages).
    let path: String
    /// The file's contents. Empty (with a nil base address) for a zero-length file.
    let bytes: UnsafeRawBufferPointer

    /// Opens and maps `path`.
    ///
    /// - Throws: ``ModelLoadError/fileNotFound(path:)`` if the file does not exist, otherwise
    ///   ``ModelLoadError/unreadable(path:errno:)`` with the `errno` of the failed call.
    init(path: String) throws(ModelLoadError) {
        self.path = path
        // A NUL would silently truncate the C string handed to open(2) and name another file.
        guard !path.utf8.contains(0) else {
            throw .unreadable(path: path, errno: EINVAL)
        }
        let fd = try Self.openReadOnly(path)
        defer { _ = close(fd) }  // Nothing useful to do if close fails on a read-only fd.
        let size = try Self.regularFileSize(fd, path: path)
        bytes = try Self.map(fd, size: size, path: path)
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
        // open(2) succeeds on a directory and mmap(2) would then fail with ENODEV; report the
        // real cause instead. Pipes and devices have no meaningful size to map either.
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            let isDirectory = (info.st_mode & S_IFMT) == S_IFDIR
            throw .unreadable(path: path, errno: isDirectory ? EISDIR : EINVAL)
        }
        guard info.st_size >= 0, let size = Int(exactly: info.st_size) else {
            throw .unreadable(path: path, errno: EOVERFLOW)
        }
        return size
    }

    private static func map(
        _ fd: Int32, size: Int, path: String
    ) throws(ModelLoadError) -> UnsafeRawBufferPointer {
        // mmap(2) rejects a zero length with EINVAL; an empty file is simply an empty buffer
        // (the safetensors parser then reports it as truncated).
        guard size > 0 else {
            return UnsafeRawBufferPointer(start: nil, count: 0)
        }
        let address = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0)
        // MAP_FAILED is ((void *)-1), a macro Swift cannot import.
        guard let address, address != UnsafeMutableRawPointer(bitPattern: -1) else {
            throw .unreadable(path: path, errno: errno)
        }
        return UnsafeRawBufferPointer(start: address, count: size)
    }

    /// Drops this process's resident pages wholly inside `range` (bytes from the mapping's start). The file
    /// is unchanged and a later read faults them back in from it; a bf16 model calls this once it has packed
    /// a tensor, so the f32 original stops counting towards resident memory.
    func release(_ range: Range<Int>) {
        guard let base = bytes.baseAddress, range.lowerBound >= 0, range.upperBound <= bytes.count else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = (Int(bitPattern: base) + range.lowerBound + page - 1) / page * page
        let end = (Int(bitPattern: base) + range.upperBound) / page * page
        guard end > start else { return }
        _ = madvise(UnsafeMutableRawPointer(bitPattern: start), end - start, MADV_DONTNEED)
    }
}
