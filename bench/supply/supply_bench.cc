// The signature gate's cost per image (issue #18's target: the gate adds < 50 ms to a release on
// a warm cache). A real registry — Debian's docker-registry (distribution 2.8.2) behind token
// authentication, on 127.0.0.1 with a port chosen at run time, as in tests/supply — holds one
// image signed in cosign's legacy format and another with a Sigstore bundle referrer (made with
// OpenSSL in cosign's formats, tests/supply/cosign_fixtures.h), and a policy file names the key.
//
//   BM_VerifyCold/<format>: what the first check of an image costs — a new verifier (its policy
//     parsed), a token from the token server, the tag resolved, the signature manifest(s) and
//     layer fetched, the signature verified.
//   BM_VerifyWarm/<format>: the same image checked again by the daemon's verifier (its token
//     cached): the registry round trips and the verification, no token.
// The controller keeps a verdict per revision (controller.h, imageChecks_), so a release checks
// each new image once; these times are what that once costs. Wall time (UseRealTime): the gate
// waits on the registry.

#include <benchmark/benchmark.h>

#include <fstream>
#include <memory>
#include <string>

#include "audit/signer.h"
#include "harness/harness.h"
#include "supply/cosign_fixtures.h"
#include "supply/oci_reference.h"
#include "supply/registry_harness.h"
#include "supply/registry_image_verifier.h"

namespace ramp::supply {
namespace {

// The registry, the two signed images and the policy file, made once for every benchmark.
struct Fixture {
  ramp::testing::TempDir dir{"ramp-bench-supply"};
  std::unique_ptr<testing::LocalRegistry> registry;
  audit::SigningKey key = *audit::SigningKey::generate();
  std::string error;  // set when the registry could not be started or written

  Fixture() {
    auto r = testing::LocalRegistry::start({.tokenAuth = true}, dir.path());
    if (!r) {
      error = "docker-registry: " + r.error().message;
      return;
    }
    registry = std::move(*r);
    auto legacy = registry->pushImage("shop/legacy", "v1", "legacy");
    auto bundle = registry->pushImage("shop/bundle", "v1", "bundle");
    if (!legacy || !bundle) {
      error = "push: " + (legacy ? bundle.error().message : legacy.error().message);
      return;
    }
    const std::string payload =
        testing::simpleSigningPayload(registry->host() + "/shop/legacy", *legacy);
    Status s = registry->pushLegacySignature("shop/legacy", *legacy,
                                             {{payload, testing::signBase64(key, payload)}});
    if (s) {
      s = registry->pushBundleReferrer(
          "shop/bundle", *bundle,
          testing::bundleJson(key,
                              testing::signStatement(registry->host() + "/shop/bundle", *bundle)));
    }
    if (!s) {
      error = "signing: " + s.error().message;
      return;
    }
    std::string pem;
    for (char c : key.publicKey().pem())
      pem += c == '\n' ? std::string("\n        ") : std::string(1, c);
    std::ofstream(dir.file("policy.yaml")) << policy("legacy", "legacy", pem) << "---\n"
                                           << policy("bundle", "bundle", pem);
  }

  std::string policy(const std::string& name, const std::string& format,
                     const std::string& pem) const {
    return "apiVersion: policy.sigstore.dev/v1beta1\nkind: ClusterImagePolicy\nmetadata: {name: " +
           name + "}\nspec:\n  images: [{glob: \"" + registry->host() + "/shop/" + name +
           ":*\"}]\n  authorities:\n  - name: release\n    signatureFormat: " + format +
           "\n    key:\n      data: |\n        " + pem + "\n";
  }

  std::unique_ptr<RegistryImageVerifier> verifier() const {
    auto policies = RegistryImageVerifier::loadPolicies(dir.file("policy.yaml"));
    if (!policies) return nullptr;
    OciClient::Options o;
    o.credentials = http::BasicCredentials{"ramp", "s3cret-pw"};
    return std::make_unique<RegistryImageVerifier>(std::move(*policies), o, NoMatch::kDeny);
  }
};

Fixture& fixture() {
  static Fixture f;
  return f;
}

void BM_VerifyCold(benchmark::State& state, const char* format) {
  Fixture& f = fixture();
  if (!f.error.empty()) {
    state.SkipWithError(f.error.c_str());
    return;
  }
  const std::string image = f.registry->host() + "/shop/" + format + ":v1";
  for (auto _ : state) {
    auto verifier = f.verifier();
    ImageVerdict v = verifier->verify(image);
    if (!v.allowed) {
      state.SkipWithError(v.reason.c_str());
      return;
    }
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_VerifyWarm(benchmark::State& state, const char* format) {
  Fixture& f = fixture();
  if (!f.error.empty()) {
    state.SkipWithError(f.error.c_str());
    return;
  }
  const std::string image = f.registry->host() + "/shop/" + format + ":v1";
  auto verifier = f.verifier();
  if (!verifier->verify(image).allowed) {  // fills the token cache
    state.SkipWithError("the image does not verify");
    return;
  }
  for (auto _ : state) {
    ImageVerdict v = verifier->verify(image);
    if (!v.allowed) {
      state.SkipWithError(v.reason.c_str());
      return;
    }
  }
  state.SetItemsProcessed(state.iterations());
}

BENCHMARK_CAPTURE(BM_VerifyCold, legacy, "legacy")->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_VerifyCold, bundle, "bundle")->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_VerifyWarm, legacy, "legacy")->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_VerifyWarm, bundle, "bundle")->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace ramp::supply
