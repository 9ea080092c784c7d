// SPDX-License-Identifier: MIT
#pragma once
// A configuration says which environment variable's key is sent to which server. A shared file
// could name OPENAI_API_KEY next to its own base_url: a pair (variable, server) not used on this
// machine before is pointed out before the first run. The pairs are kept in a small JSON file in
// the data folder ($MOA_KNOWN_KEYS, else $XDG_DATA_HOME/moa-workbench/known-keys.json).
#include <string>
#include <vector>

#include "config/config.h"

namespace moa::config {

struct KeyUse {
    std::string provider;    // the provider's name in the configuration
    std::string api_key_env; // the variable
    std::string server;      // scheme://host[:port] the key goes to
    // "provider "p" sends the key in $VAR to https://host, which this machine has not done before"
    std::string describe() const;
};

class KnownKeyUses {
public:
    static std::string default_path();
    explicit KnownKeyUses(std::string path = default_path());

    // The providers that agents of `c` use whose variable is set (so a key would be sent) and
    // whose (variable, server) pair is not known yet.
    std::vector<KeyUse> unfamiliar(const Config& c) const;
    // Adds these pairs to the file. An error message when it cannot be written, else empty.
    std::string remember(const std::vector<KeyUse>& uses);

private:
    std::string path_;
};

// scheme://host[:port] of a base URL, lower-cased: where a key goes.
std::string key_server(const std::string& base_url);

} // namespace moa::config
