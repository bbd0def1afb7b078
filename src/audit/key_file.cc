#include "audit/key_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "common/file_io.h"

namespace ramp::audit {

Result<SigningKey> createKeyFile(const std::string& path) {
  const std::string pub = path + ".pub";
  for (const std::string& f : {path, pub}) {
    if (std::filesystem::exists(f)) {
      return makeError(ErrorCode::kAlreadyExists, f + " exists; not overwriting a key");
    }
  }
  auto key = SigningKey::generate();
  if (!key) return std::unexpected(key.error());
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return makeError(ErrorCode::kUnavailable, "cannot create " + path);
  const std::string pem = key->privatePem();
  const bool wrote =
      ::write(fd, pem.data(), pem.size()) == static_cast<ssize_t>(pem.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!wrote) {
    ::unlink(path.c_str());
    return makeError(ErrorCode::kUnavailable, "cannot write " + path);
  }
  if (auto s = writeFileAtomically(pub, key->publicKey().pem()); !s) {
    return std::unexpected(s.error());
  }
  return key;
}

Result<SigningKey> readKeyFile(const std::string& path,
                               const std::function<void(const std::string&)>& warn) {
  auto pem = readFileIfExists(path);
  if (!pem) return makeError(pem.error().code, path + ": " + pem.error().message);
  if (!*pem) return makeError(ErrorCode::kNotFound, path + ": no such file");
  auto key = SigningKey::fromPem(**pem);
  if (!key) {
    return makeError(ErrorCode::kInvalidArgument, path + ": not an ECDSA P-256 private key in PEM");
  }
  if (struct stat st{}; warn && ::stat(path.c_str(), &st) == 0 && (st.st_mode & 077) != 0) {
    warn(path +
         " can be read by users other than its owner (whoever reads it can forge the audit "
         "log): chmod 600 " +
         path);
  }
  return key;
}

}  // namespace ramp::audit
