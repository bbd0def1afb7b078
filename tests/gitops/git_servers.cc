#include "gitops/git_servers.h"

#include "gitops/gitops_fixtures.h"

#include <gtest/gtest.h>
#include <pwd.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

namespace ramp::gitops::testing {
namespace {

using ramp::testing::Process;

struct ShResult {
  int code = -1;
  std::string out;
};

ShResult run(const std::string& command) {
  ShResult r;
  FILE* p = popen((command + " 2>&1").c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  r.code = pclose(p);
  while (!r.out.empty() && (r.out.back() == '\n' || r.out.back() == '\r')) r.out.pop_back();
  return r;
}

// Runs `command` every 50 ms for up to 10 s until it succeeds.
bool poll(const std::string& command, std::string* lastOutput) {
  for (int i = 0; i < 200; ++i) {
    ShResult r = run(command);
    if (r.code == 0) return true;
    *lastOutput = r.out;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

std::unique_ptr<Process> spawn(std::vector<std::string> argv, const std::string& logFile) {
  auto p = Process::start({std::move(argv), {}, logFile, ""});
  EXPECT_TRUE(p) << (p ? "" : p.error().message);
  return p ? std::move(*p) : nullptr;
}

std::string readText(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

std::string sh(const std::string& command) {
  ShResult r = run(command);
  EXPECT_EQ(r.code, 0) << command << "\n" << r.out;
  return r.out;
}

void writeFile(const std::string& path, const std::string& text) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path) << text;
}

// --- the repository ------------------------------------------------------------------------

ShopRepository::ShopRepository(const ramp::testing::TempDir& dir)
    : root(dir.file("srv")), work(dir.file("work")) {
  sh("git init -q --bare -b main " + root + "/shop.git");
  sh("git init -q -b main " + work);
  c1 = commit(twoEnvironments("shop:1"), "first");
  sh(git() + " tag v1");
  c2 = commit(twoEnvironments("shop:2"), "second");
  sh(git() + " push -q " + root + "/shop.git main v1");
}

std::string ShopRepository::git() const {
  return "git -C " + work + " -c user.name=tester -c user.email=tester@example.com";
}

std::string ShopRepository::commit(const FileTree& files, const std::string& message) {
  for (const auto& [path, text] : files) writeFile(work + "/" + path, text);
  sh(git() + " add -A && " + git() + " commit -q -m '" + message + "'");
  return sh(git() + " rev-parse HEAD");
}

void ShopRepository::push() { sh(git() + " push -q " + root + "/shop.git main"); }

std::string ShopRepository::serverLog(const std::string& format) const {
  return sh("git --git-dir=" + root + "/shop.git log -1 --format='" + format + "' main");
}

// --- git daemon ---------------------------------------------------------------------------

std::unique_ptr<GitDaemon> GitDaemon::start(const std::string& root, const std::string& probe,
                                            const std::string& logFile) {
  auto d = std::unique_ptr<GitDaemon>(new GitDaemon);
  d->port_ = ramp::testing::pickFreePort();
  d->process_ = spawn(
      {"git", "daemon", "--reuseaddr", "--listen=127.0.0.1", "--port=" + std::to_string(d->port_),
       "--base-path=" + root, "--export-all", "--enable=receive-pack", root},
      logFile);
  if (d->process_ == nullptr) return nullptr;
  std::string out;
  if (!poll("git ls-remote " + d->url(probe), &out)) {
    ADD_FAILURE() << "git daemon does not answer: " << out << "\n" << d->log();
    return nullptr;
  }
  return d;
}

std::string GitDaemon::url(const std::string& repo) const {
  return "git://127.0.0.1:" + std::to_string(port_) + "/" + repo;
}

// --- https: nginx + fcgiwrap + git http-backend ---------------------------------------------

std::unique_ptr<HttpsGitServer> HttpsGitServer::start(const std::string& root,
                                                      const std::string& probe,
                                                      const std::string& workDir,
                                                      const std::string& user,
                                                      const std::string& password) {
  auto s = std::unique_ptr<HttpsGitServer>(new HttpsGitServer);
  s->workDir_ = workDir;
  const std::string& d = workDir;
  std::filesystem::create_directories(d + "/tmp");
  // A CA, a server certificate it signs for IP 127.0.0.1, and a second CA that signs nothing.
  const std::string ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 ";
  sh("cd " + d + " && openssl req -x509 " + ec +
     "-keyout ca.key -out ca.crt -subj /CN=ramp-test-ca && openssl req -x509 " + ec +
     "-keyout other-ca.key -out other-ca.crt -subj /CN=ramp-other-ca && openssl req " + ec +
     "-keyout server.key -out server.csr -subj /CN=127.0.0.1 && echo "
     "subjectAltName=IP:127.0.0.1 > server.ext && openssl x509 -req -in server.csr -CA ca.crt "
     "-CAkey ca.key -CAcreateserial -days 2 -extfile server.ext -out server.crt");
  writeFile(d + "/htpasswd", user + ":" + sh("openssl passwd -apr1 '" + password + "'") + "\n");
  s->port_ = ramp::testing::pickFreePort();
  writeFile(
      d + "/nginx.conf",
      std::string(::geteuid() == 0 ? "user root;\n" : "") +
          "worker_processes 1;\ndaemon off;\npid " + d + "/nginx.pid;\nerror_log " + d +
          "/error.log info;\nevents { worker_connections 64; }\nhttp {\n  access_log " + d +
          "/access.log;\n  client_body_temp_path " + d + "/tmp/body;\n  proxy_temp_path " + d +
          "/tmp/proxy;\n  fastcgi_temp_path " + d + "/tmp/fastcgi;\n  uwsgi_temp_path " + d +
          "/tmp/uwsgi;\n  scgi_temp_path " + d +
          "/tmp/scgi;\n  server {\n    listen 127.0.0.1:" + std::to_string(s->port_) +
          " ssl;\n    ssl_certificate " + d + "/server.crt;\n    ssl_certificate_key " + d +
          "/server.key;\n    client_max_body_size 0;\n    location / {\n"
          "      auth_basic git;\n      auth_basic_user_file " +
          d + "/htpasswd;\n      include /etc/nginx/fastcgi_params;\n      fastcgi_pass unix:" + d +
          "/fcgiwrap.sock;\n"
          "      fastcgi_param SCRIPT_FILENAME /usr/lib/git-core/git-http-backend;\n"
          "      fastcgi_param GIT_PROJECT_ROOT " +
          root +
          ";\n      fastcgi_param GIT_HTTP_EXPORT_ALL 1;\n"
          "      fastcgi_param PATH_INFO $uri;\n"
          // http-backend takes pushes only from an authenticated REMOTE_USER.
          "      fastcgi_param REMOTE_USER $remote_user;\n    }\n  }\n}\n");
  s->fcgiwrap_ = spawn({"fcgiwrap", "-s", "unix:" + d + "/fcgiwrap.sock"}, d + "/fcgiwrap.log");
  s->nginx_ =
      spawn({"nginx", "-p", d, "-c", d + "/nginx.conf", "-e", d + "/error.log"}, d + "/nginx.log");
  if (s->fcgiwrap_ == nullptr || s->nginx_ == nullptr) return nullptr;
  std::string out;
  const std::string authed =
      "https://" + user + ":" + password + "@127.0.0.1:" + std::to_string(s->port_) + "/" + probe;
  if (!poll("GIT_SSL_CAINFO=" + s->caFile() + " git ls-remote " + authed, &out)) {
    ADD_FAILURE() << "nginx + git http-backend do not answer: " << out << "\n" << s->log();
    return nullptr;
  }
  return s;
}

HttpsGitServer::~HttpsGitServer() {
  if (nginx_) nginx_->stop();
  if (fcgiwrap_) fcgiwrap_->stop();
}

std::string HttpsGitServer::url(const std::string& repo) const {
  return "https://127.0.0.1:" + std::to_string(port_) + "/" + repo;
}

std::string HttpsGitServer::log() const {
  return readText(workDir_ + "/error.log") + readText(workDir_ + "/fcgiwrap.log") +
         readText(workDir_ + "/access.log");
}

// --- ssh: sshd --------------------------------------------------------------------------------

std::unique_ptr<SshGitServer> SshGitServer::start(const std::string& root, const std::string& probe,
                                                  const std::string& workDir,
                                                  const std::string& authorizedKey,
                                                  const std::string& clientKey) {
  auto s = std::unique_ptr<SshGitServer>(new SshGitServer);
  s->root_ = root;
  s->workDir_ = workDir;
  const std::string& d = workDir;
  std::filesystem::create_directories(d);
  const passwd* pw = ::getpwuid(::geteuid());
  s->user_ = pw != nullptr ? pw->pw_name : "root";
  sh("ssh-keygen -q -t ed25519 -N '' -C ramp-test-host -f " + d + "/host_key");
  writeFile(d + "/authorized_keys", authorizedKey + "\n");
  s->port_ = ramp::testing::pickFreePort();
  writeFile(d + "/sshd_config", "ListenAddress 127.0.0.1:" + std::to_string(s->port_) +
                                    "\nHostKey " + d + "/host_key\nAuthorizedKeysFile " + d +
                                    "/authorized_keys\nPidFile none\nUsePAM no\n"
                                    "StrictModes no\nPasswordAuthentication no\n"
                                    "KbdInteractiveAuthentication no\n"
                                    "PermitRootLogin prohibit-password\nLogLevel VERBOSE\n");
  // sshd started as root needs its privilege separation directory (Debian's is /run/sshd,
  // normally made by the service unit); as another user it runs without privilege separation.
  if (::geteuid() == 0) std::filesystem::create_directories("/run/sshd");
  s->process_ = spawn({"/usr/sbin/sshd", "-D", "-e", "-f", d + "/sshd_config"}, d + "/sshd.log");
  if (s->process_ == nullptr) return nullptr;
  writeFile(d + "/probe_known_hosts", s->knownHostsLine() + "\n");
  std::string out;
  if (!poll("GIT_SSH_COMMAND='ssh -i " + clientKey + " -o IdentitiesOnly=yes -o BatchMode=yes " +
                "-o UserKnownHostsFile=" + d + "/probe_known_hosts' git ls-remote " + s->url(probe),
            &out)) {
    ADD_FAILURE() << "sshd does not answer: " << out << "\n" << s->log();
    return nullptr;
  }
  return s;
}

std::string SshGitServer::url(const std::string& repo) const {
  return "ssh://" + user_ + "@127.0.0.1:" + std::to_string(port_) + root_ + "/" + repo;
}

std::string SshGitServer::knownHostsLine() const {
  std::string pub = readText(workDir_ + "/host_key.pub");
  pub = pub.substr(0, pub.rfind(' '));  // without the comment
  return "[127.0.0.1]:" + std::to_string(port_) + " " + pub;
}

}  // namespace ramp::gitops::testing
