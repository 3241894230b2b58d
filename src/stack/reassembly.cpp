#include "ersatz/stack/reassembly.hpp"

#include <algorithm>

namespace ersatz::stack {

namespace ipv4 = wire::ipv4;

Reassembler::Pending* Reassembler::find(const ipv4::Packet<>& f) noexcept {
  for (auto& p : datagrams_) {
    if (p.src == f.src() && p.dst == f.dst() && p.protocol == f.protocol() && p.ident == f.ident())
      return &p;
  }
  return nullptr;
}

void Reassembler::erase(Pending* p) noexcept {
  held_ -= p->cost();
  *p = std::move(datagrams_.back());
  datagrams_.pop_back();
}

bool Reassembler::complete(const Pending& p) const noexcept {
  return p.total && !p.header.empty() && p.pieces.size() == 1 && p.pieces[0].begin == 0 &&
         p.pieces[0].end == *p.total;
}

std::vector<std::byte> Reassembler::assemble(Pending& p) const {
  std::vector<std::byte> out(p.header.size() + *p.total);
  std::copy(p.header.begin(), p.header.end(), out.begin());
  std::copy(p.payload.begin(), p.payload.begin() + static_cast<std::ptrdiff_t>(*p.total),
            out.begin() + static_cast<std::ptrdiff_t>(p.header.size()));
  MutBytes b(out.data(), out.size());
  store_be16(b, ipv4::field::total_len.begin, static_cast<std::uint16_t>(out.size()));
  // Keep DF and the reserved bit; clear MF and the offset.
  const std::uint16_t flags =
      load_be16(b, ipv4::field::flags_frag.begin) & (ipv4::flag_df | ipv4::flag_reserved);
  store_be16(b, ipv4::field::flags_frag.begin, flags);
  auto view = ipv4::Packet<MutBytes>::unchecked(b);
  view.fill_checksum();
  return out;
}

Reassembler::Outcome Reassembler::add(const ipv4::Packet<>& f, MonoTime now) {
  const std::size_t begin = f.frag_offset();
  const ConstBytes data = f.payload();
  const std::size_t end = begin + data.size();
  // RFC 791: the whole datagram, header included, is at most 65535 bytes.
  if (end + f.header_len() > 65535) {
    if (Pending* p = find(f)) erase(p);
    return {std::nullopt, DropReason::frag_too_big};
  }
  // Every fragment but the last carries a multiple of 8 bytes (RFC 791).
  if (f.more_fragments() && data.size() % 8 != 0)
    return {std::nullopt, DropReason::ip_bad_total_len};

  Pending* p = find(f);
  if (p == nullptr) {
    if (datagrams_.size() >= config_.max_datagrams) return {std::nullopt, DropReason::frag_budget};
    datagrams_.push_back(
        Pending{f.src(), f.dst(), f.protocol(), f.ident(), now + config_.timeout, {}, {}, {}, {}});
    p = &datagrams_.back();
  }

  // Overlap check against the pieces held: an exact duplicate is ignored,
  // any other overlap condemns the datagram.
  for (const Piece& piece : p->pieces) {
    if (begin < piece.end && piece.begin < end) {
      const bool duplicate = piece.begin <= begin && end <= piece.end &&
                             std::equal(data.begin(), data.end(),
                                        p->payload.begin() + static_cast<std::ptrdiff_t>(begin));
      if (duplicate) return {};
      erase(p);
      return {std::nullopt, DropReason::frag_overlap};
    }
  }
  if (!f.more_fragments()) {
    // Data past the end, or a second, different end, is inconsistent.
    if ((p->total && *p->total != end) || (!p->pieces.empty() && p->pieces.back().end > end)) {
      erase(p);
      return {std::nullopt, DropReason::frag_overlap};
    }
    p->total = end;
  } else if (p->total && end > *p->total) {
    erase(p);
    return {std::nullopt, DropReason::frag_overlap};
  }

  const std::size_t before = p->cost();
  const std::size_t grow = std::max(p->payload.size(), end) - p->payload.size() +
                           (begin == 0 && p->header.empty() ? f.header_len() : 0);
  if (held_ + grow > config_.budget) {
    erase(p);
    return {std::nullopt, DropReason::frag_budget};
  }
  if (p->payload.size() < end) p->payload.resize(end);
  std::copy(data.begin(), data.end(), p->payload.begin() + static_cast<std::ptrdiff_t>(begin));
  if (begin == 0) p->header.assign(f.header().begin(), f.header().end());
  held_ += p->cost() - before;
  peak_held_ = std::max(peak_held_, held_);
  peak_datagrams_ = std::max(peak_datagrams_, datagrams_.size());

  // Insert the piece and merge neighbours, keeping the list sorted.
  auto at = std::lower_bound(p->pieces.begin(), p->pieces.end(), begin,
                             [](const Piece& x, std::size_t b) { return x.begin < b; });
  at = p->pieces.insert(at, Piece{begin, end});
  if (at != p->pieces.begin() && std::prev(at)->end == at->begin) {
    std::prev(at)->end = at->end;
    at = std::prev(p->pieces.erase(at));
  }
  if (std::next(at) != p->pieces.end() && at->end == std::next(at)->begin) {
    at->end = std::next(at)->end;
    p->pieces.erase(std::next(at));
  }

  if (!complete(*p)) return {};
  Outcome done{assemble(*p), std::nullopt};
  erase(p);
  return done;
}

std::size_t Reassembler::poll(MonoTime now) {
  std::size_t dropped = 0;
  for (std::size_t i = 0; i < datagrams_.size();) {
    if (datagrams_[i].expires <= now) {
      erase(&datagrams_[i]);
      ++dropped;
    } else {
      ++i;
    }
  }
  return dropped;
}

std::optional<MonoTime> Reassembler::next_deadline() const noexcept {
  std::optional<MonoTime> next;
  for (const auto& p : datagrams_) {
    if (!next || p.expires < *next) next = p.expires;
  }
  return next;
}

}  // namespace ersatz::stack
