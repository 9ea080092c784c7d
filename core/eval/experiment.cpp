// SPDX-License-Identifier: MIT
#include "eval/experiment.h"

#include <filesystem>

#include "config/json_lines.h"
#include "config/whole_number.h"
#include "eval/alpaca_files.h"
#include "eval/lc_variants.h"
#include "util/resources.h"
#include "util/sha256.h"
#include "util/text.h"
#include "util/file_read.h"

namespace moa::eval {

using nlohmann::json;
namespace fs = std::filesystem;

std::string config_key(const config::Config& c) {
    json j = config::to_json(c);
    j.erase("name");
    j.erase("description");
    return util::sha256_hex(j.dump()).substr(0, 32);
}

namespace {

struct Ctx {
    std::string path;
    std::string dir;
    config::JsonLineMap lines;
    std::vector<std::string> errors;
    Ctx(std::string p, const std::string& text) : path(std::move(p)), lines(text) {
        dir = fs::path(path).parent_path().string();
        if (dir.empty()) dir = ".";
        for (const auto& [ptr, line] : lines.duplicates())
            errors.push_back(path + ":" + std::to_string(line) + ": " + ptr +
                             ": this key is given twice in one object: JSON readers disagree on which one counts; keep one");
    }
    void error(const std::string& ptr, const std::string& msg) {
        errors.push_back(path + ":" + std::to_string(lines.line_of(ptr)) + ": " + (ptr.empty() ? "" : ptr + ": ") + msg);
    }
    std::string resolve(const std::string& p) const {
        if (p.empty() || fs::path(p).is_absolute()) return p;
        return (fs::path(dir) / p).lexically_normal().string();
    }
    // A configuration file (relative to the experiment) or a preset name.
    std::optional<config::Config> config_at(const std::string& ptr, const std::string& what) {
        std::string p = resolve(what);
        std::error_code ec;
        if (!fs::exists(p, ec)) {
            std::string preset = resources::preset_path(what);
            if (preset.empty()) {
                error(ptr, "no configuration file \"" + p + "\" and no preset named \"" + what + "\"");
                return std::nullopt;
            }
            p = preset;
        }
        auto r = config::load_config_file(p);
        bool bad = false;
        for (const auto& i : r.issues)
            if (i.severity == config::Issue::Severity::Error) {
                error(ptr, "in configuration: " + i.str());
                bad = true;
            }
        if (bad || !r.config) return std::nullopt;
        return r.config;
    }
};

std::optional<std::string> get_str(Ctx& c, const json& o, const std::string& ptr, const char* key, bool required) {
    auto it = o.find(key);
    if (it == o.end()) {
        if (required) c.error(ptr, "\"" + std::string(key) + "\" is required");
        return std::nullopt;
    }
    if (!it->is_string()) {
        c.error(ptr + "/" + key, "expected a string, got " + std::string(it->type_name()));
        return std::nullopt;
    }
    return it->get<std::string>();
}

std::optional<double> get_num(Ctx& c, const json& o, const std::string& ptr, const char* key, double lo, double hi) {
    auto it = o.find(key);
    if (it == o.end()) return std::nullopt;
    if (!it->is_number() || it->get<double>() < lo || it->get<double>() > hi) {
        auto num = [](double v) {
            char b[32];
            std::snprintf(b, sizeof b, "%g", v);
            return std::string(b);
        };
        c.error(ptr + "/" + key, "expected a number from " + num(lo) + " to " + num(hi) +
                                     ", got " + text::quote_start(it->dump(), 40));
        return std::nullopt;
    }
    return it->get<double>();
}

// A count, index or seed: whole however it is written (config/whole_number.h, as configuration
// files read it); 0.5 names the pointer instead of being cut to 0.
std::optional<double> get_whole(Ctx& c, const json& o, const std::string& ptr, const char* key, double lo, double hi) {
    auto it = o.find(key);
    if (it != o.end() && it->is_number() && !config::is_whole_number(*it)) {
        c.error(ptr + "/" + key, "must be a whole number, not a fraction: " + text::quote_start(it->dump(), 40));
        return std::nullopt;
    }
    return get_num(c, o, ptr, key, lo, hi);
}

void known(Ctx& c, const json& o, const std::string& ptr, std::initializer_list<const char*> keys) {
    for (const auto& [k, _] : o.items()) {
        bool ok = false;
        for (const char* x : keys) ok = ok || k == x;
        if (!ok) {
            std::string list;
            for (const char* x : keys) list += (list.empty() ? "" : ", ") + std::string(x);
            c.error(ptr + "/" + k, "unknown key (known: " + list + ")");
        }
    }
}

} // namespace

Result<Experiment> load_experiment(const std::string& path) {
    auto read = files::read_regular_file(path, files::kMaxConfigBytes);
    if (!read) return Error{read.error() + " (the experiment file)"};
    const std::string& text = *read;
    std::string parse_error;
    json j = config::parse_with_position(text, path, parse_error);
    if (j.is_discarded()) return Error{parse_error};
    if (!j.is_object()) return Error{path + ":1: an experiment file is a JSON object"};
    Ctx c(path, text);
    Experiment e;
    e.path = path;
    known(c, j, "", {"schema", "name", "configurations", "prompts", "sample", "seed", "reference", "judge",
                     "concurrency", "budget_usd", "rate_limits", "lc_variants", "cache_generations"});
    if (auto s = get_str(c, j, "", "schema", false); s && *s != kExperimentSchema)
        c.error("/schema", "this build reads \"" + std::string(kExperimentSchema) + "\", the file says \"" + *s + "\"");
    e.name = get_str(c, j, "", "name", false).value_or(fs::path(path).stem().string());
    if (auto v = get_whole(c, j, "", "sample", 0, 1e6)) e.sample = static_cast<std::size_t>(*v);
    if (auto v = get_whole(c, j, "", "seed", 0, 9e15)) e.seed = static_cast<std::uint64_t>(*v);
    if (auto v = get_whole(c, j, "", "concurrency", 1, 256)) e.concurrency = static_cast<int>(*v);
    if (auto v = get_num(c, j, "", "budget_usd", 0, 1e9)) e.budget_usd = *v;

    // configurations
    auto cs = j.find("configurations");
    if (cs == j.end() || !cs->is_array() || cs->empty()) c.error("/configurations", "a list of one or more configuration files or preset names is required");
    else
        for (std::size_t i = 0; i < cs->size(); ++i) {
            std::string ptr = "/configurations/" + std::to_string(i);
            if (!(*cs)[i].is_string()) {
                c.error(ptr, "expected a file path or preset name");
                continue;
            }
            if (auto cfg = c.config_at(ptr, (*cs)[i].get<std::string>())) {
                e.configs.push_back(std::move(*cfg));
                e.config_sources.push_back((*cs)[i].get<std::string>());
            }
        }

    // prompts
    auto pj = j.find("prompts");
    if (pj == j.end()) c.error("", "\"prompts\" is required: \"starter\" or {\"file\": ..., \"format\": ...}");
    else {
        Result<PromptSet> ps = Error{""};
        if (pj->is_string() && pj->get<std::string>() == "starter") ps = load_starter_set();
        else if (pj->is_string()) ps = load_prompt_set(c.resolve(pj->get<std::string>()));
        else if (pj->is_object()) {
            known(c, *pj, "/prompts", {"file", "format", "mapping", "references"});
            auto file = get_str(c, *pj, "/prompts", "file", true);
            auto fmt_s = get_str(c, *pj, "/prompts", "format", false).value_or("auto");
            auto fmt = prompt_format_from_string(fmt_s);
            if (!fmt) c.error("/prompts/format", "unknown format \"" + fmt_s + "\" (auto, alpaca_eval, mt_bench, flask, jsonl, csv)");
            ColumnMapping m;
            if (auto mj = pj->find("mapping"); mj != pj->end()) {
                if (!mj->is_object()) c.error("/prompts/mapping", "expected an object such as {\"instruction\": \"question\"}");
                else {
                    known(c, *mj, "/prompts/mapping", {"id", "category", "instruction", "reference"});
                    if (auto v = get_str(c, *mj, "/prompts/mapping", "id", false)) m.id = *v;
                    if (auto v = get_str(c, *mj, "/prompts/mapping", "category", false)) m.category = *v;
                    if (auto v = get_str(c, *mj, "/prompts/mapping", "instruction", false)) m.instruction = *v;
                    if (auto v = get_str(c, *mj, "/prompts/mapping", "reference", false)) m.reference = *v;
                }
            }
            if (file && fmt) {
                ps = *file == "starter" ? load_starter_set() : load_prompt_set(c.resolve(*file), *fmt, m);
                if (ps)
                    if (auto refs = get_str(c, *pj, "/prompts", "references", false))
                        if (auto r = attach_mt_bench_references(*ps, c.resolve(*refs)); !r) c.error("/prompts/references", r.error());
            }
        } else {
            c.error("/prompts", "expected \"starter\", a file path, or {\"file\": ..., \"format\": ...}");
        }
        if (!ps.ok() && !ps.error().empty()) c.error("/prompts", ps.error());
        if (ps.ok()) e.prompts = sample(*ps, e.sample, e.seed);
    }

    // judge
    auto jj = j.find("judge");
    if (jj == j.end() || !jj->is_object()) c.error("", "\"judge\" is required: {\"config\": FILE, \"mode\": \"pairwise\"}");
    else {
        known(c, *jj, "/judge", {"config", "mode", "template", "labels", "top_logprobs", "skills_file"});
        e.judge.mode = get_str(c, *jj, "/judge", "mode", false).value_or("pairwise");
        if (e.judge.mode != "pairwise" && e.judge.mode != "single" && e.judge.mode != "skills")
            c.error("/judge/mode", "unknown mode \"" + e.judge.mode + "\" (pairwise, single or skills)");
        if (auto f = get_str(c, *jj, "/judge", "config", true))
            if (auto cfg = c.config_at("/judge/config", *f)) {
                if (cfg->layers.size() != 1 || cfg->layers[0].agents.size() != 1)
                    c.error("/judge/config", "the judge's configuration must have exactly one layer with one agent (the judge model)");
                else e.judge.config = std::move(*cfg);
            }
        auto tl = get_whole(c, *jj, "/judge", "top_logprobs", 0, 20);
        if (tl) e.judge.top_logprobs = *tl > 0 ? std::optional<int>(int(*tl)) : std::nullopt;
        std::vector<std::string> req = e.judge.mode == "pairwise" ? std::vector<std::string>{"instruction", "output_1", "output_2"}
                                     : e.judge.mode == "single"   ? std::vector<std::string>{"conversation"}
                                                                  : std::vector<std::string>{"instruction", "output", "skills"};
        auto t = get_str(c, *jj, "/judge", "template", false);
        Result<JudgeTemplate> tmpl = (!t || *t == "default") ? builtin_template(e.judge.mode) : load_template(c.resolve(*t), req);
        if (!tmpl) c.error("/judge/template", tmpl.error());
        else e.judge.tmpl = std::move(*tmpl);
        if (auto lj = jj->find("labels"); lj != jj->end()) {
            if (!lj->is_array() || lj->size() != 2 || !(*lj)[0].is_string() || !(*lj)[1].is_string() || (*lj)[0] == (*lj)[1])
                c.error("/judge/labels", "expected two different labels, for the first and the second output, e.g. [\"m\", \"M\"]");
            else {
                e.judge.tmpl.label_1 = (*lj)[0].get<std::string>();
                e.judge.tmpl.label_2 = (*lj)[1].get<std::string>();
            }
        }
        if (auto sf = get_str(c, *jj, "/judge", "skills_file", false)) {
            std::string sp = c.resolve(*sf), st;
            json sj = text::read_file(sp, st) ? json::parse(st, nullptr, false) : json();
            if (!sj.is_array()) c.error("/judge/skills_file", sp + ": expected FLASK's skillset list ([{\"Skill\": ..., \"Criteria\": ...}])");
            else
                for (const auto& s : sj)
                    if (s.is_object() && s.contains("Skill") && s["Skill"].is_string())
                        e.judge.skill_criteria[s["Skill"].get<std::string>()] = s.value("Criteria", "");
        }
    }

    // reference
    if (auto rj = j.find("reference"); rj != j.end()) {
        if (!rj->is_object()) c.error("/reference", "expected {\"configuration\": FILE} or {\"outputs\": FILE}");
        else {
            known(c, *rj, "/reference", {"configuration", "outputs", "name"});
            ReferenceSpec r;
            if (auto f = get_str(c, *rj, "/reference", "configuration", false)) {
                r.kind = ReferenceSpec::Kind::Configuration;
                r.source = *f;
                r.config = c.config_at("/reference/configuration", *f);
                if (r.config) r.name = r.config->name;
            } else if (auto o = get_str(c, *rj, "/reference", "outputs", false)) {
                r.kind = ReferenceSpec::Kind::Outputs;
                r.source = *o;
                auto outs = load_model_outputs(c.resolve(*o));
                if (!outs) c.error("/reference/outputs", outs.error());
                else {
                    for (const auto& m : *outs) r.outputs[m.instruction] = m.output;
                    r.name = outs->empty() ? *o : outs->front().generator;
                    for (const auto& it : e.prompts.items)
                        if (!r.outputs.count(it.instruction())) {
                            c.error("/reference/outputs", "the outputs have no answer for prompt \"" + it.id + "\" (" + it.source + ")");
                            break;
                        }
                }
            } else {
                c.error("/reference", "name a \"configuration\" or imported \"outputs\"");
            }
            if (auto n = get_str(c, *rj, "/reference", "name", false)) r.name = *n;
            e.reference = std::move(r);
        }
    } else if (e.judge.mode == "pairwise") {
        // Imported outputs in the prompt file (AlpacaEval model_outputs) are a reference already.
        bool all = !e.prompts.items.empty();
        for (const auto& it : e.prompts.items) all = all && it.output.has_value();
        if (all) {
            ReferenceSpec r;
            r.kind = ReferenceSpec::Kind::Outputs;
            for (const auto& it : e.prompts.items) r.outputs[it.instruction()] = *it.output;
            r.name = e.prompts.items.front().generator.empty() ? "imported outputs" : e.prompts.items.front().generator;
            r.source = "prompts";
            e.reference = std::move(r);
        } else {
            c.error("", "a pairwise judge needs a \"reference\": {\"configuration\": FILE} or {\"outputs\": FILE}");
        }
    }

    // rate limits
    if (auto rl = j.find("rate_limits"); rl != j.end()) {
        if (!rl->is_object()) c.error("/rate_limits", "expected {\"provider\": {\"requests_per_minute\": N, \"tokens_per_minute\": N}}");
        else
            for (const auto& [name, v] : rl->items()) {
                std::string ptr = "/rate_limits/" + text::pointer_token(name);
                if (!v.is_object()) {
                    c.error(ptr, "expected {\"requests_per_minute\": N, \"tokens_per_minute\": N}");
                    continue;
                }
                known(c, v, ptr, {"requests_per_minute", "tokens_per_minute"});
                RateLimit l;
                // 0 is no limit; a limit below one a minute would hold every call for ever.
                for (const char* k : {"requests_per_minute", "tokens_per_minute"}) {
                    auto x = get_num(c, v, ptr, k, 0, std::string(k) == "requests_per_minute" ? 1e7 : 1e10);
                    if (!x) continue;
                    if (*x > 0 && *x < 1) {
                        c.error(ptr + "/" + k, "expected 0 (no limit) or at least 1, got " + text::quote_start(v[k].dump(), 40));
                        continue;
                    }
                    (std::string(k) == "requests_per_minute" ? l.requests_per_minute : l.tokens_per_minute) = *x;
                }
                e.rate_limits[name] = l;
            }
    }

    if (auto cg = j.find("cache_generations"); cg != j.end()) {
        if (!cg->is_boolean()) c.error("/cache_generations", "expected true or false, got " + text::quote_start(cg->dump(), 40));
        else e.cache_generations = cg->get<bool>();
    }
    if (auto lv = j.find("lc_variants"); lv != j.end()) {
        if (!lv->is_boolean()) c.error("/lc_variants", "expected true or false, got " + text::quote_start(lv->dump(), 40));
        else e.lc_variants = lv->get<bool>();
        if (e.lc_variants)
            if (auto why = lc_variants_unavailable(e); !why.empty()) c.error("/lc_variants", why);
    }

    if (!c.errors.empty()) {
        std::string all;
        for (const auto& x : c.errors) all += (all.empty() ? "" : "\n") + x;
        return Error{all};
    }
    return e;
}

} // namespace moa::eval
