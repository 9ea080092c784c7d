// SPDX-License-Identifier: MIT
#pragma once
// The offline demo's built-in notes: a few short texts of our own on neutral topics, from which
// its proposers answer (each from a different part), so that the provenance of later layers
// shows real flows without a network.
#include <string>
#include <vector>

namespace moa::providers {

struct DemoTopic {
    const char* title;
    std::vector<const char*> keywords; // lower case; a prompt holding one chooses this topic
    std::vector<const char*> sentences;
};

const std::vector<DemoTopic>& demo_topics();
// The topic whose keywords the prompt mentions most, else one chosen by `hash`.
const DemoTopic& demo_topic_for(const std::string& prompt, unsigned long long hash);

} // namespace moa::providers
