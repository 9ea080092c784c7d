// SPDX-License-Identifier: MIT
#include "store/ack_order.h"

namespace moa::store {

void AckOrder::forward(const engine::Event& e) {
    std::lock_guard<std::mutex> lock(next_mu_);
    if (next_) next_(e);
}

void AckOrder::keep(const engine::Event& e, std::uint64_t ticket, bool ready) {
    held_.push_back({e, ticket, ready});
    ++held_per_agent_[agent_of(e)];
}

void AckOrder::pass(const engine::Event& e) {
    {
        std::lock_guard<std::mutex> lock(mu_);
        const bool nothing_ahead = held_.empty() && !draining_;
        // Text of an agent that no held event concerns overtakes the held ones: it cannot
        // contradict them, and holding it would stall that agent's stream behind another's
        // commit. Anything else keeps its place.
        const bool free_text = e.type == engine::Event::Type::AgentDelta && e.agent >= 0 &&
                               held_per_agent_.count(agent_of(e)) == 0;
        if (!nothing_ahead && !free_text) return keep(e, 0, true);
    }
    forward(e);
}

std::uint64_t AckOrder::hold(const engine::Event& e) {
    std::lock_guard<std::mutex> lock(mu_);
    keep(e, ++last_ticket_, false);
    return last_ticket_;
}

void AckOrder::ack(std::uint64_t ticket) {
    {
        std::lock_guard<std::mutex> lock(mu_);
        for (auto& h : held_)
            if (h.ticket == ticket) h.ready = true;
        if (draining_) return; // the thread draining now will reach it
        draining_ = true;
    }
    drain();
}

void AckOrder::drain() {
    std::unique_lock<std::mutex> lock(mu_);
    while (!held_.empty() && held_.front().ready) {
        engine::Event e = std::move(held_.front().event);
        held_.pop_front();
        lock.unlock();
        forward(e);
        lock.lock();
        // Counted until it has gone: the agent's next text must not overtake it meanwhile.
        auto it = held_per_agent_.find(agent_of(e));
        if (it != held_per_agent_.end() && --it->second == 0) held_per_agent_.erase(it);
    }
    draining_ = false;
}

} // namespace moa::store
