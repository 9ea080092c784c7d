// SPDX-License-Identifier: MIT
#pragma once
// The model catalog (resources/catalog/models.json): prices in USD per million input and output
// tokens, total and active parameter counts, context length, each with its source and date.
#include <optional>
#include <string>
#include <vector>

#include "providers/chat_types.h"
#include "util/result.h"

namespace moa::accounting {

struct ModelInfo {
    std::string provider; // catalog provider key, e.g. "together"
    std::string model;
    std::optional<double> input_usd_per_mtok;
    std::optional<double> output_usd_per_mtok;
    std::optional<double> total_params_b;
    std::optional<double> active_params_b; // equals total for dense models
    std::optional<long> context;
    std::string price_source;
    std::string price_date;
    std::string params_source;
};

struct CallCost {
    std::optional<double> usd;    // unknown when the catalog has no price
    std::optional<double> tflops; // unknown when the catalog has no parameter count
};

class Catalog {
public:
    static Result<Catalog> load_file(const std::string& path);
    static Result<Catalog> load_text(const std::string& text, const std::string& label);

    // Finds a model for a configured provider: by provider name, else by the host of its base
    // URL, else (for parameter counts only, no price) by model name alone.
    struct Match {
        const ModelInfo* priced = nullptr;  // same provider: prices apply
        const ModelInfo* params = nullptr;  // any provider: parameter counts apply
    };
    Match find(const std::string& provider_name, const std::string& base_url, const std::string& model) const;

    const std::vector<ModelInfo>& models() const { return models_; }
    void add(ModelInfo m) { models_.push_back(std::move(m)); }
    void add_provider_host(std::string key, std::string host) { hosts_.push_back({std::move(key), std::move(host)}); }

private:
    std::vector<ModelInfo> models_;
    std::vector<std::pair<std::string, std::string>> hosts_; // provider key, host
};

// Cost and TFLOPs of one call. TFLOPs as the MoA paper counts them: 2 x active parameters x
// tokens (prompt + completion).
CallCost cost_of(const Catalog::Match& m, const providers::Usage& u);

} // namespace moa::accounting
