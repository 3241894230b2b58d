#include "ersatz/runtime/runtime.hpp"

#include <algorithm>
#include <csignal>
#include <cstring>

namespace ersatz::runtime {

// ---------------------------------------------------------------- signals

namespace signals {
namespace {

// Lock-free, so that a handler may set them (std::atomic<bool> is on every
// platform ersatz builds for; the static_assert keeps it so).
std::atomic<bool> g_stop{false};
std::atomic<bool> g_status{false};
static_assert(std::atomic<bool>::is_always_lock_free);

void on_signal([[maybe_unused]] int sig) {
#if defined(SIGQUIT)
  if (sig == SIGQUIT) {
    g_status.store(true, std::memory_order_relaxed);
    return;
  }
#endif
  g_stop.store(true, std::memory_order_relaxed);
}

}  // namespace

void install() noexcept {
#if defined(_WIN32)
  // Windows has neither SIGQUIT nor SIGALRM; Ctrl+C arrives as SIGINT.
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
#else
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: a wait in the device must wake up
  for (int sig : {SIGINT, SIGTERM, SIGALRM, SIGQUIT}) sigaction(sig, &sa, nullptr);
#endif
}

void request_stop() noexcept { g_stop.store(true, std::memory_order_relaxed); }
bool stop_requested() noexcept { return g_stop.load(std::memory_order_relaxed); }
bool take_status_request() noexcept { return g_status.exchange(false, std::memory_order_relaxed); }
void reset() noexcept {
  g_stop.store(false);
  g_status.store(false);
}

}  // namespace signals

// ---------------------------------------------------------------- runtime

Runtime::Runtime(link::Device& device, stack::Host& host, Clock& clock, RuntimeOptions options)
    : device_(device), host_(host), clock_(clock), options_(options) {
  options_.rx_batch = std::max<std::size_t>(options_.rx_batch, 1);
  kernel_stamps_ = options_.report_sent && device_.capabilities().tx_timestamps;
}

Runtime::~Runtime() { host_.set_listener(nullptr); }

Result<void> Runtime::send(const wire::ipv4::Repr& repr, ConstBytes payload,
                           wire::Ipv4Address next_hop, stack::PathMtuUse mtu_use) {
  return host_.send(repr, payload, next_hop, now_, outbox_, mtu_use);
}

void Runtime::flush() {
  if (outbox_.empty()) return;
  for (std::size_t i = 0; i < outbox_.size(); ++i) {
    const ConstBytes frame = outbox_[i];
    const std::uint64_t number = device_.tx_count();
    // Stamped just before the send, as iputils stamps before sendmsg: the
    // reply's stamp comes from the kernel, and a send that returns after
    // the reply arrived (libpcap's, through a veth) must not make the
    // round trip negative.
    const Timestamp before = options_.report_sent ? clock_.wall() : Timestamp{};
    auto sent = link::transmit_copy(device_, frame);
    if (!sent) {
      ++stats_.send_errors;
      if (app_ != nullptr) app_->on_send_error(*this, sent.error());
      continue;
    }
    ++stats_.frames_out;
    if (options_.report_sent) {
      SentHead head{
          number, before, static_cast<std::uint8_t>(std::min(frame.size(), sent_head_len)), {}};
      std::copy_n(frame.begin(), head.len, head.bytes.begin());
      if (kernel_stamps_) {
        // Bounded: a stamp the kernel never gives is forgotten eventually.
        if (awaiting_stamp_.size() >= 4096) awaiting_stamp_.pop_front();
        awaiting_stamp_.push_back(head);
      }
      // Refined below if the kernel stamps it.
      pending_user_stamps_.push_back(head);
    }
  }
  outbox_.clear();
  if (auto r = device_.flush(); !r) {
    ++stats_.send_errors;
    if (app_ != nullptr) app_->on_send_error(*this, r.error());
  }
  ++stats_.bursts;
  if (!pending_user_stamps_.empty()) {
    for (const SentHead& h : pending_user_stamps_) {
      if (app_ != nullptr) app_->on_sent(*this, ConstBytes(h.bytes.data(), h.len), h.user, false);
    }
    pending_user_stamps_.clear();
  }
}

void Runtime::read_tx_stamps() {
  if (awaiting_stamp_.empty()) return;
  (void)device_.tx_timestamps([&](std::uint64_t frame, Timestamp ts) {
    // Stamps come in frame order; older entries without one are dropped.
    while (!awaiting_stamp_.empty() && awaiting_stamp_.front().frame < frame)
      awaiting_stamp_.pop_front();
    if (awaiting_stamp_.empty() || awaiting_stamp_.front().frame != frame) return;
    const SentHead& h = awaiting_stamp_.front();
    ++stats_.kernel_tx_stamps;
    if (app_ != nullptr) app_->on_sent(*this, ConstBytes(h.bytes.data(), h.len), ts, true);
    awaiting_stamp_.pop_front();
  });
}

void Runtime::on_icmp(const stack::IcmpDelivery& d) {
  if (app_ != nullptr) app_->on_icmp(*this, d);
}
void Runtime::on_neighbor_failed(wire::Ipv4Address next_hop,
                                 std::span<const stack::Datagram> datagrams) {
  if (app_ != nullptr) app_->on_neighbor_failed(*this, next_hop, datagrams);
}
void Runtime::on_neighbor_changed(const stack::NeighborActions::MacChanged& change) {
  if (app_ != nullptr) app_->on_neighbor_changed(*this, change);
}

void Runtime::handle(const link::RxFrame& frame) {
  ++stats_.frames_in;
  // A reply's round trip is measured from its probe's kernel departure
  // stamp: take the stamps before the reply is looked at.
  read_tx_stamps();
  if (app_->on_frame(*this, frame)) host_.receive(frame.data, frame.ts, now_, outbox_);
}

Result<std::size_t> Runtime::drain() {
  std::size_t n = 0;
  while (n < options_.rx_batch) {
    auto rx = device_.receive(link::no_wait);
    if (!rx) {
      if (rx.error() == std::errc::interrupted) break;
      return tl::unexpected(rx.error());
    }
    if (!*rx) break;
    handle(**rx);
    ++n;
  }
  return n;
}

MonoTime Runtime::next_wakeup(std::optional<MonoTime> app_deadline) const {
  MonoTime t = now_ + options_.max_wait;
  if (app_deadline) t = std::min(t, *app_deadline);
  if (auto h = host_.next_deadline()) t = std::min(t, *h);
  return t;
}

Result<void> Runtime::wait(MonoTime deadline) {
  if (options_.busy_poll && clock_.waits_in_device()) {
    for (;;) {
      auto rx = device_.receive(link::no_wait);
      if (!rx) {
        if (rx.error() == std::errc::interrupted) return {};
        return tl::unexpected(rx.error());
      }
      now_ = clock_.now();
      if (*rx) {
        handle(**rx);
        return {};
      }
      if (now_ >= deadline || signals::stop_requested()) return {};
    }
  }
  auto rx = device_.receive(deadline);
  if (!rx) {
    if (rx.error() == std::errc::interrupted) return {};
    return tl::unexpected(rx.error());
  }
  if (*rx) {
    now_ = clock_.now();
    handle(**rx);
  } else {
    clock_.idle_until(deadline);
  }
  return {};
}

Result<void> Runtime::run(Application& app) {
  app_ = &app;
  host_.set_listener(this);
  stop_ = false;
  now_ = clock_.now();
  app.start(*this);
  flush();
  while (!stop_ && !signals::stop_requested() && !app.finished(*this)) {
    ++stats_.turns;
    if (signals::take_status_request()) app.on_status_request(*this);
    now_ = clock_.now();
    auto taken = drain();
    if (!taken) return tl::unexpected(taken.error());
    host_.poll(now_, outbox_);
    const std::optional<MonoTime> app_deadline = app.poll(*this);
    flush();
    if (stop_ || signals::stop_requested() || app.finished(*this)) break;
    // A full batch: more may be waiting, and the application may want to
    // send in between.
    if (*taken == options_.rx_batch) continue;
    const MonoTime deadline = next_wakeup(app_deadline);
    // This turn's time, a little old by now: a deadline just passed only
    // makes the device's wait return at once.
    if (deadline <= now_) continue;
    app.idle(*this);
    if (auto w = wait(deadline); !w) return w;
  }
  flush();
  app_ = nullptr;
  return {};
}

}  // namespace ersatz::runtime
