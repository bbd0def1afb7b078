# Every third-party library comes from a Debian bookworm package (scripts/bootstrap.sh).
find_package(Threads REQUIRED)
find_package(nlohmann_json 3.11 REQUIRED)   # nlohmann_json::nlohmann_json
find_package(CURL REQUIRED)                 # CURL::libcurl
find_package(SQLite3 REQUIRED)              # SQLite::SQLite3
find_package(OpenSSL REQUIRED)              # OpenSSL::SSL OpenSSL::Crypto
find_package(ZLIB REQUIRED)                 # ZLIB::ZLIB (common/compact_text.h)
find_package(CLI11 REQUIRED)                # CLI11::CLI11
find_package(fmt REQUIRED)                  # fmt::fmt
find_package(spdlog REQUIRED)               # spdlog::spdlog
find_package(Boost 1.74 REQUIRED)           # Boost::headers (Math, Asio)
find_package(date REQUIRED)                 # date::date-tz (cron windows in IANA zones)
find_package(PkgConfig REQUIRED)
pkg_check_modules(LIBGIT2 REQUIRED IMPORTED_TARGET libgit2)  # PkgConfig::LIBGIT2 (src/gitops)
pkg_check_modules(LIBSSH2 REQUIRED IMPORTED_TARGET libssh2)  # known_hosts checks (src/gitops)
# Debian's cpp-httplib is a compiled library: its compile flags MUST come from pkg-config or the
# class layouts differ and it crashes at run time (platform-notes §1).
pkg_check_modules(HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)
# libyaml (C event API), not yaml-cpp: yaml-cpp 0.7 loops forever on some malformed flow input
# (docs/spec.md).
pkg_check_modules(LIBYAML REQUIRED IMPORTED_TARGET yaml-0.1)  # PkgConfig::LIBYAML
if(RAMP_JEMALLOC)
  pkg_check_modules(JEMALLOC REQUIRED IMPORTED_TARGET jemalloc)  # the ramp binary's allocator
endif()
if(NOT RAMP_FUZZ)
  find_package(GTest REQUIRED)
  include(GoogleTest)
  find_package(benchmark REQUIRED)
endif()
