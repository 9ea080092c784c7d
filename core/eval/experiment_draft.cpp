// SPDX-License-Identifier: MIT
#include "eval/experiment_draft.h"

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "eval/experiment.h"
#include "eval/prompt_set.h"
#include "util/resources.h"

namespace moa::eval {

namespace fs = std::filesystem;

namespace {

// Paths made absolute so the experiment file can live anywhere; preset names stay names.
std::string absolute_or_name(const std::string& s) {
    std::error_code ec;
    if (s.empty() || !fs::exists(s, ec)) return s;
    return fs::absolute(s, ec).lexically_normal().string();
}

Result<bool> write_file(const fs::path& p, const std::string& text) {
    const fs::path tmp = p.string() + ".part";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out << text;
        out.flush();
        if (!out) {
            std::error_code ec;
            fs::remove(tmp, ec);
            return Error{p.string() + ": cannot write (disk full or no permission)"};
        }
    }
    std::error_code ec;
    fs::rename(tmp, p, ec);
    if (ec) {
        fs::remove(tmp, ec);
        return Error{p.string() + ": cannot write: " + ec.message()};
    }
    return true;
}

std::string joined(const std::vector<DraftIssue>& issues) {
    std::string all;
    for (const auto& i : issues) all += (all.empty() ? "" : "\n") + i.field + ": " + i.message;
    return all;
}

} // namespace

Result<config::Config> load_config_field(const std::string& field, const std::string& value) {
    const std::string v = value;
    if (v.empty()) return Error{field + " is empty: choose a configuration file or a preset"};
    std::error_code ec;
    std::string path = v;
    if (!fs::exists(path, ec)) {
        path = resources::preset_path(v);
        if (path.empty()) return Error{field + ": no configuration file \"" + v + "\" and no preset named \"" + v + "\""};
    }
    auto r = config::load_config_file(path);
    std::string errors;
    for (const auto& i : r.issues)
        if (i.severity == config::Issue::Severity::Error) errors += (errors.empty() ? "" : "; ") + i.str();
    if (!r.config || !errors.empty()) return Error{field + ": " + (errors.empty() ? path + ": cannot load" : errors)};
    return *r.config;
}

Result<config::Config> load_judge_field(const std::string& field, const std::string& value) {
    auto c = load_config_field(field, value);
    if (c && (c->layers.size() != 1 || c->layers[0].agents.size() != 1))
        return Error{field + ": \"" + value + "\" has " + std::to_string(c->layers.size()) +
                     " layers; a judge is a configuration with exactly one layer and one agent (the judge model)"};
    return c;
}

std::vector<DraftIssue> check_draft(const ExperimentDraft& d) {
    std::vector<DraftIssue> out;
    auto add = [&out](const std::string& field, const std::string& error) {
        // load_*_field errors start with the field's name already.
        std::string msg = error.rfind(field, 0) == 0 ? error.substr(field.size()) : error;
        while (!msg.empty() && (msg.front() == ':' || msg.front() == ' ')) msg.erase(0, 1);
        out.push_back({field, msg});
    };
    if (d.configurations.empty()) add("Configurations", "choose at least one configuration to evaluate");
    for (const auto& c : d.configurations)
        if (auto r = load_config_field("Configurations", c); !r) add("Configurations", r.error());
    if (d.prompts.empty()) add("Prompts", "choose the starter set or a prompt file");
    else if (d.prompts != "starter") {
        if (auto p = load_prompt_set(d.prompts); !p) add("Prompts", p.error());
        else if (p->items.empty()) add("Prompts", d.prompts + " holds no prompts");
    }
    if (d.judge_mode != "pairwise" && d.judge_mode != "single" && d.judge_mode != "skills")
        add("Judge", "unknown grading \"" + d.judge_mode + "\" (pairwise, single or skills)");
    if (auto j = load_judge_field("Judge", d.judge); !j) add("Judge", j.error());
    if (d.judge_mode == "pairwise") {
        if (d.reference.empty()) add("Reference", "a pairwise judge compares each answer with a reference: choose its configuration");
        else if (auto r = load_config_field("Reference", d.reference); !r) add("Reference", r.error());
    } else if (d.lc_variants) {
        add("LC variants", "baseline variants regularise the LC of a pairwise judge; choose pairwise grading or untick them");
    }
    return out;
}

Result<VariantPlan> plan_draft_lc_variants(const ExperimentDraft& d, const accounting::Catalog& catalog) {
    Experiment e;
    e.judge.mode = d.judge_mode;
    e.lc_variants = true;
    auto judge = load_judge_field("Judge", d.judge);
    if (!judge) return Error{judge.error()};
    e.judge.config = std::move(*judge);
    auto ref = load_config_field("Reference", d.reference);
    if (!ref) return Error{ref.error()};
    ReferenceSpec r;
    r.config = std::move(*ref);
    e.reference = std::move(r);
    auto ps = d.prompts == "starter" ? load_starter_set() : load_prompt_set(d.prompts);
    if (!ps) return Error{"Prompts: " + ps.error()};
    e.prompts = sample(*ps, d.sample, d.seed);
    if (auto why = lc_variants_unavailable(e); !why.empty()) return Error{"LC variants: " + why};
    return plan_lc_variants(e, catalog, nullptr);
}

Result<std::string> write_draft(const ExperimentDraft& d, const std::string& path) {
    auto issues = check_draft(d);
    if (path.empty()) issues.push_back({"File", "choose where to write the experiment"});
    if (!issues.empty()) return Error{joined(issues)};
    std::error_code ec;
    const fs::path p(path);
    if (p.has_parent_path()) fs::create_directories(p.parent_path(), ec);
    if (ec) return Error{"File: " + p.parent_path().string() + ": cannot create the folder: " + ec.message()};
    nlohmann::json configs = nlohmann::json::array();
    for (const auto& c : d.configurations) configs.push_back(absolute_or_name(c));
    nlohmann::json e{{"schema", kExperimentSchema},
                     {"name", d.name.empty() ? p.stem().stem().string() : d.name},
                     {"configurations", configs},
                     {"prompts", d.prompts == "starter" ? std::string("starter") : absolute_or_name(d.prompts)},
                     {"sample", d.sample},
                     {"seed", d.seed},
                     {"judge", {{"config", absolute_or_name(d.judge)}, {"mode", d.judge_mode}}},
                     {"concurrency", d.concurrency}};
    if (d.judge_mode == "pairwise" || !d.reference.empty()) e["reference"] = {{"configuration", absolute_or_name(d.reference)}};
    if (d.lc_variants) e["lc_variants"] = true;
    const bool existed = fs::exists(p, ec);
    const fs::path tmp = p.string() + ".new";
    if (auto w = write_file(tmp, e.dump(2) + "\n"); !w) return Error{"File: " + w.error()};
    // Read back with the loader every other path uses: what we wrote must open.
    if (auto back = load_experiment(tmp.string()); !back) {
        fs::remove(tmp, ec);
        return Error{"File: the written experiment does not load, so nothing was kept:\n" + back.error()};
    }
    fs::rename(tmp, p, ec);
    if (ec) {
        fs::remove(tmp, ec);
        return Error{"File: " + p.string() + ": cannot write: " + ec.message() + (existed ? " (the old file is unchanged)" : "")};
    }
    return p.string();
}

Result<std::string> write_demo_experiment(const std::string& dir, std::size_t sample) {
    auto base = load_config_field("Demo", "offline-demo");
    if (!base) return Error{base.error()};
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) return Error{dir + ": cannot create the folder: " + ec.message()};
    // The demo's pace is for watching one run; an experiment of many runs goes faster.
    for (auto& [_, p] : base->providers) {
        p.demo_tokens_per_second = 400;
        p.demo_first_token_ms = 20;
    }
    config::Config three = *base, two = *base, one = *base;
    three.name = "Demo MoA: 2 proposer layers + aggregator";
    two.name = "Demo MoA: 1 proposer layer + aggregator";
    two.layers.erase(two.layers.begin() + 1);
    one.name = "One demo model";
    one.description = "The reference: one offline demo model answering alone";
    one.layers.resize(1);
    one.layers[0].agents.resize(1);
    const fs::path d(dir);
    for (const auto& [file, cfg] : {std::pair{"demo-moa-2-layers.moa.json", &three}, std::pair{"demo-moa-1-layer.moa.json", &two},
                                    std::pair{"demo-one-model.moa.json", &one}})
        if (auto w = write_file(d / file, config::to_json(*cfg).dump(2) + "\n"); !w) return Error{w.error()};
    ExperimentDraft x;
    x.name = "Offline demo experiment";
    x.configurations = {(d / "demo-moa-2-layers.moa.json").string(), (d / "demo-moa-1-layer.moa.json").string()};
    x.reference = (d / "demo-one-model.moa.json").string();
    x.judge = kDemoJudge;
    x.sample = sample;
    return write_draft(x, (d / "demo.moa-experiment.json").string());
}

} // namespace moa::eval
