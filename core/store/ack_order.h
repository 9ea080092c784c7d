// SPDX-License-Identifier: MIT
#pragma once
// One run's events on their way past the history writer. An answer is reported done only once
// it is committed, but the thread that reports it (the transport thread) must never wait for the
// disk: a done event is held until the writer acknowledges its commit, and passed on from the
// writer's thread then. Order is kept where it means something: an event that comes after a held
// one waits behind it, except the text of agents that nothing held concerns, which flows on (one
// agent's slow commit never stops another agent's tokens).
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <utility>

#include "engine/run_types.h"

namespace moa::store {

class AckOrder {
public:
    explicit AckOrder(engine::EventSink next) : next_(std::move(next)) {}

    // The engine's thread: passes `e` on now, or behind the held events it must follow.
    void pass(const engine::Event& e);
    // The engine's thread: keeps `e` until ack() with the returned ticket.
    std::uint64_t hold(const engine::Event& e);
    // Any thread (the writer, once the commit is done): `ticket` may go; passes on, in order,
    // everything that no longer waits.
    void ack(std::uint64_t ticket);

private:
    using Agent = std::pair<int, int>; // (layer, agent); (-1, -1) for run and layer events
    struct Held {
        engine::Event event;
        std::uint64_t ticket = 0; // 0: waits only for what is ahead of it
        bool ready = false;
    };
    static Agent agent_of(const engine::Event& e) { return {e.layer, e.agent}; }
    void keep(const engine::Event& e, std::uint64_t ticket, bool ready); // with mu_ held
    void forward(const engine::Event& e);
    void drain();

    engine::EventSink next_;
    std::mutex mu_;
    std::deque<Held> held_;
    std::map<Agent, int> held_per_agent_; // held events (or being passed on) per agent
    std::uint64_t last_ticket_ = 0;
    bool draining_ = false;
    std::mutex next_mu_; // one call of next_ at a time, from whichever thread
};

} // namespace moa::store
