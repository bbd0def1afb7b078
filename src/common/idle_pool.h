#pragma once

// IdlePool: objects that are costly to make and cheap to reuse (a zlib stream with its window, a
// curl handle with the connection its last request left open), kept between uses by whichever
// thread needs one next. take() hands out the one given back last (its state the freshest) or
// makes one; giveBack() keeps it unless maxIdle are kept already, and then destroys it outside
// the lock. So the pool holds as many as were in use at once while they are, and at most
// maxIdle when they are not — where one per thread kept one for every thread that ever used one.
//
// Thread safety: take() and giveBack() may be called from any thread.

#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

namespace ramp {

template <typename T, typename Deleter = std::default_delete<T>>
class IdlePool {
 public:
  using Ptr = std::unique_ptr<T, Deleter>;

  // `make` makes a new object (it may return null: take() then returns null).
  IdlePool(size_t maxIdle, std::function<Ptr()> make) : maxIdle_(maxIdle), make_(std::move(make)) {}

  Ptr take() {
    {
      std::lock_guard lock(mu_);
      if (!idle_.empty()) {
        Ptr p = std::move(idle_.back());
        idle_.pop_back();
        return p;
      }
    }
    return make_();
  }

  void giveBack(Ptr p) {
    if (!p) return;
    {
      std::lock_guard lock(mu_);
      if (idle_.size() < maxIdle_) {
        idle_.push_back(std::move(p));
        return;
      }
    }
    p.reset();  // one too many: destroyed without the lock
  }

  // An object taken for a scope, given back when the scope ends.
  class Lease {
   public:
    explicit Lease(IdlePool& pool) : pool_(pool), p_(pool.take()) {}
    ~Lease() { pool_.giveBack(std::move(p_)); }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    T& operator*() const { return *p_; }

   private:
    IdlePool& pool_;
    Ptr p_;
  };

 private:
  const size_t maxIdle_;
  const std::function<Ptr()> make_;
  std::mutex mu_;
  std::vector<Ptr> idle_;
};

}  // namespace ramp
