// Whole-file reads and crash-safe whole-file writes (temp file, fsync, rename, fsync the directory).
#include "runtime/io/AtomicFile.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace vidnet::rt {
namespace {

std::string directoryOf(const std::string &path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos)
    return ".";
  if (slash == 0)
    return "/";
  return path.substr(0, slash);
}

// write(2) may write less than asked (signals, pipes, >2 GiB requests), so loop.
bool writeAll(int fd, const char *p, size_t n, int &err) {
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR)
        continue;
      err = errno;
      return false;
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

} // namespace

bool writeFileAtomically(const std::string &path, const std::vector<std::pair<const void *, size_t>> &chunks,
                         std::string &error) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0) {
    error = path + ": cannot create temporary file '" + tmp + "': " + std::strerror(errno);
    return false;
  }
  auto fail = [&](const std::string &what, int err) {
    if (fd >= 0)
      ::close(fd);
    ::unlink(tmp.c_str());
    error = path + ": " + what + ": " + std::strerror(err);
    return false;
  };

  // Replacing a file should not silently change who may read it (e.g. a 0600 checkpoint).
  struct stat old;
  if (::stat(path.c_str(), &old) == 0 && S_ISREG(old.st_mode) && ::fchmod(fd, old.st_mode & 07777) != 0)
    return fail("cannot copy the permissions of the existing file to '" + tmp + "'", errno);

  int err = 0;
  for (const auto &[data, size] : chunks)
    if (!writeAll(fd, static_cast<const char *>(data), size, err))
      return fail("cannot write '" + tmp + "'", err);
  // Without the fsync, a crash after the rename can leave a renamed but empty file.
  if (::fsync(fd) != 0)
    return fail("cannot fsync '" + tmp + "'", errno);
  int closed = ::close(fd);
  fd = -1;
  if (closed != 0)
    return fail("cannot close '" + tmp + "'", errno);
  if (::rename(tmp.c_str(), path.c_str()) != 0)
    return fail("cannot rename '" + tmp + "' over it", errno);

  // The rename is done and visible; syncing the directory only makes it survive a power
  // loss. Filesystems that cannot sync directories (EINVAL) or a directory we may not open
  // are not failures of the write, but a real I/O error is worth reporting.
  const std::string dir = directoryOf(path);
  int dirFd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dirFd >= 0) {
    int synced = ::fsync(dirFd);
    int syncErr = errno;
    ::close(dirFd);
    if (synced != 0 && syncErr != EINVAL && syncErr != ENOTSUP && syncErr != EROFS) {
      error = path + ": written, but cannot fsync its directory '" + dir + "' (the new file may not survive a crash): " +
              std::strerror(syncErr);
      return false;
    }
  }
  return true;
}

bool readWholeFile(const std::string &path, std::vector<char> &out, std::string &error) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    error = path + ": cannot open: " + std::strerror(errno);
    return false;
  }
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    error = path + ": cannot stat: " + std::strerror(errno);
    ::close(fd);
    return false;
  }
  if (S_ISDIR(st.st_mode)) {
    error = path + ": is a directory, not a file";
    ::close(fd);
    return false;
  }
  // One byte more than the size, so that the end of file is seen without growing the buffer;
  // pipes and /proc files report size 0 and grow as they are read.
  std::vector<char> buffer(S_ISREG(st.st_mode) && st.st_size > 0 ? static_cast<size_t>(st.st_size) + 1 : 1 << 16);
  size_t used = 0;
  while (true) {
    if (used == buffer.size())
      buffer.resize(buffer.size() * 2);
    ssize_t n = ::read(fd, buffer.data() + used, buffer.size() - used);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      error = path + ": cannot read: " + std::strerror(errno);
      ::close(fd);
      return false;
    }
    if (n == 0)
      break;
    used += static_cast<size_t>(n);
  }
  ::close(fd);
  buffer.resize(used);
  out = std::move(buffer);
  return true;
}

} // namespace vidnet::rt
