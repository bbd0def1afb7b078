#include "common/base64.h"

#include <openssl/evp.h>

namespace ramp {

std::string encodeBase64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()),
                          static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

Result<std::string> decodeBase64(std::string_view text) {
  std::string out(text.size() / 4 * 3 + 3, '\0');
  EVP_ENCODE_CTX* ctx = EVP_ENCODE_CTX_new();
  if (ctx == nullptr) return makeError(ErrorCode::kInternal, "base64: out of memory");
  EVP_DecodeInit(ctx);
  int n = 0, tail = 0;
  auto* dst = reinterpret_cast<unsigned char*>(out.data());
  int rc = EVP_DecodeUpdate(ctx, dst, &n, reinterpret_cast<const unsigned char*>(text.data()),
                            static_cast<int>(text.size()));
  if (rc >= 0) rc = EVP_DecodeFinal(ctx, dst + n, &tail);
  EVP_ENCODE_CTX_free(ctx);
  if (rc < 0) return makeError(ErrorCode::kInvalidArgument, "not base64");
  out.resize(static_cast<size_t>(n + tail));
  return out;
}

}  // namespace ramp
